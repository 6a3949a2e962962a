import type { Config } from './config.ts';
import { type AppliedLog, INPUT_NUMBERS, InputQueue } from './inputs.ts';
import { RateRule, TokenBucket } from './ratelimit.ts';
import { SeatTable } from './seats.ts';
import type { Link } from './transport.ts';
import { ALL_VIEW } from '../netcode/interest.ts';
import type { WireEvent } from '../netcode/protocol.ts';
import { SentViews } from '../netcode/snapcache.ts';

/** What a room shares among its members: the seat table their hot numbers live in, the message limit, the applied-input log. */
export interface SeatContext {
  table: SeatTable;
  msgRule: RateRule;
  applied: AppliedLog;
}

/** Numbers a member keeps in its seat table row: the message limit's `tat`, then the input queue. */
export const seatNumbers = (cfg: Config): number => 1 + cfg.inputQueueLimit * INPUT_NUMBERS;

/** A room's seat context for `seats` members, with the message limit of `cfg`. */
export function seatContext(cfg: Config, seats: number): SeatContext {
  return {
    table: new SeatTable(seats, seatNumbers(cfg)),
    msgRule: new RateRule(cfg.msgRatePerS, cfg.msgBurst),
    applied: { at: [], count: 0 },
  };
}

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
  readonly chatBucket: TokenBucket;
  /** This member's row in the room's seat table (released by `release`); `[row]` is the message limit's state. */
  private readonly row: number;
  private readonly seats: SeatContext;

  /** Newest snapshot tick this client acknowledged (0 = none): its delta baseline. */
  ackTick = 0;
  /** The tick whose remote state the player saw when acting (lag compensation). */
  viewTick = 0;
  /**
   * View key of each private snapshot sent, by tick, to rebuild the baseline the
   * client holds. Shared snapshots are not written here one by one: see `sharedFrom`.
   */
  private readonly sent: SentViews;
  /**
   * First tick of the current run of shared snapshots (0 = not in one): the client
   * was sent every tick from here to `lastSentTick` through the room's channel, in
   * the view of all. Kept as a range so the common tick writes no sent-view entry
   * per client (another cold cache line among 500 clients; `lastSentTick` and
   * `eventTick` sit in the member itself); `endShared` writes the run into `sent`
   * when it ends.
   */
  private sharedFrom = 0;
  /** The capacity of `sent`. */
  private readonly ringTicks: number;
  /** Events up to this tick have been delivered. */
  eventTick = 0;
  /** Tick of the last snapshot sent on the current link (0 = none yet). */
  lastSentTick = 0;
  /** Whether the current link has joined the room's channel (gets the shared snapshot). */
  joined = false;
  /** Events for this client alone (notices), delivered with its next snapshot; null when none (checked every tick, without a load). */
  notices: WireEvent[] | null = null;
  snapshotsSkipped = 0;

  constructor(readonly sid: string, readonly name: string, link: Link, now: number, cfg: Config, seats: SeatContext) {
    this.link = link;
    this.helloDeadline = now + cfg.helloTimeoutS * 1000;
    this.seats = seats;
    this.row = seats.table.take();
    seats.table.data[this.row] = now; // the message limit starts with its whole burst
    this.inputs = new InputQueue(
      { limit: cfg.inputQueueLimit, maxPerTick: cfg.maxInputsPerTick, reuseTicks: cfg.inputReuseTicks },
      { data: seats.table.data, offset: this.row + 1 },
      seats.applied,
    );
    this.chatBucket = new TokenBucket(cfg.chatRatePerS, cfg.chatBurst, now);
    this.sent = new SentViews(cfg.historyTicks);
    this.ringTicks = this.sent.capacity;
  }

  get connected(): boolean {
    return this.link !== null;
  }

  /** Counts one message against the limit; false when over it. */
  takeMessage(now: number): boolean {
    return this.seats.msgRule.take(this.seats.table.data, this.row, now);
  }

  /** The seat is gone for good: its row goes back to the table. */
  release(): void {
    this.seats.table.release(this.row);
  }

  /**
   * The view key this client was sent at `tick`, or undefined if not on record (no
   * baseline). Exactly what the ring would answer had every tick of a live run been
   * written to it: a run tick is known while within the ring's reach, and an older
   * tick whose slot a run tick would have overwritten is forgotten.
   */
  sentView(tick: number): number | undefined {
    const from = this.sharedFrom;
    if (from > 0) {
      const last = this.lastSentTick;
      const cap = this.ringTicks; // not this.sent.capacity: one more cold object on every ack
      if (tick >= from && tick <= last) return tick > last - cap ? ALL_VIEW : undefined;
      if (tick < from && ((((tick - from) % cap) + cap) % cap) <= last - from) return undefined;
    }
    return this.sent.get(tick);
  }

  /** `tick` went out privately, in `viewKey`. Ends a shared run first. */
  sentPrivate(tick: number, viewKey: number): void {
    this.endShared();
    this.sent.record(tick, viewKey);
    this.lastSentTick = tick;
  }

  /** `tick` went out through the room's channel; the previous tick must have been sent to this client too. */
  sentShared(tick: number): void {
    if (this.sharedFrom === 0) this.sharedFrom = tick;
    this.lastSentTick = tick;
  }

  /** A new socket, or a new HELLO on it: nothing sent on it yet (what was sent before stays on record for a resume). */
  restartSends(): void {
    this.endShared();
    this.lastSentTick = 0;
  }

  /** Off the room's channel (left it, or the socket is gone): the run of shared snapshots ends. */
  leaveChannel(): void {
    this.joined = false;
    this.endShared();
  }

  /** Ends the run of shared snapshots: what it covered (up to the ring's reach) goes into `sent`. */
  endShared(): void {
    if (this.sharedFrom === 0) return;
    const last = this.lastSentTick;
    for (let t = Math.max(this.sharedFrom, last - this.ringTicks + 1); t <= last; t++) this.sent.record(t, ALL_VIEW);
    this.sharedFrom = 0;
  }
}
