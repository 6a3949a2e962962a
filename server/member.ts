import type { Config } from './config.ts';
import { InputQueue } from './inputs.ts';
import { TokenBucket } from './ratelimit.ts';
import type { Link } from './transport.ts';
import type { WireEvent } from '../netcode/protocol.ts';
import { SentViews } from '../netcode/snapcache.ts';

/**
 * One player's seat in a room, which outlives its socket: a dropped member keeps
 * its entity and score for the resume grace period, and a reconnect with the
 * same session rebinds the seat to the new socket.
 */
export class Member {
  playerId = 0; // 0 until HELLO put a player in the world
  link: Link | null;
  welcomed = false;
  helloDeadline: number; // ms
  droppedAt: number | null = null; // ms
  readonly inputs: InputQueue;
  readonly msgBucket: TokenBucket;
  readonly chatBucket: TokenBucket;

  /** Newest snapshot tick this client acknowledged (0 = none): its delta baseline. */
  ackTick = 0;
  /** The tick whose remote state the player saw when acting (lag compensation). */
  viewTick = 0;
  /** View key of each snapshot sent, by tick, to rebuild the baseline the client holds. */
  readonly sent: SentViews;
  /** Events up to this tick have been delivered. */
  eventTick = 0;
  /** Tick of the last snapshot sent on the current link (0 = none yet). */
  lastSentTick = 0;
  /** Whether the current link has joined the room's channel (gets the shared snapshot). */
  joined = false;
  /** Events for this client alone (notices), delivered with its next snapshot. */
  readonly notices: WireEvent[] = [];
  snapshotsSkipped = 0;

  constructor(readonly sid: string, readonly name: string, link: Link, now: number, cfg: Config) {
    this.link = link;
    this.helloDeadline = now + cfg.helloTimeoutS * 1000;
    this.inputs = new InputQueue({ limit: cfg.inputQueueLimit, maxPerTick: cfg.maxInputsPerTick, reuseTicks: cfg.inputReuseTicks });
    this.msgBucket = new TokenBucket(cfg.msgRatePerS, cfg.msgBurst, now);
    this.chatBucket = new TokenBucket(cfg.chatRatePerS, cfg.chatBurst, now);
    this.sent = new SentViews(cfg.historyTicks);
  }

  get connected(): boolean {
    return this.link !== null;
  }
}
