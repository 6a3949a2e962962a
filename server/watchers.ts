/**
 * A room's spectators: sockets (WebSocket or SSE) without a seat. A spectator is
 * not counted against MAX_PLAYERS_PER_ROOM (MAX_SPECTATORS_PER_ROOM bounds them
 * apart), sends HELLO, PING and ACK 0 (a full snapshot, please) and nothing else:
 * INPUT or CHAT closes it with CLOSE_SPECTATOR. Its snapshots come from the room's
 * fan-out (fanout.ts `sendViewers`): the shared publish whenever it holds the
 * previous tick, which is every tick but its first, so a thousand spectators cost
 * about one publish.
 */
import { decodeClient, encodeServer } from '../netcode/codec.ts';
import {
  C_ACK, C_CHAT, C_HELLO, C_INPUT, C_PING, CLOSE_BAD_MESSAGE, CLOSE_NO_HELLO, CLOSE_RATE_LIMIT, CLOSE_ROOM_FULL,
  CLOSE_SPECTATOR, EV_WATCHERS, PROTOCOL_VERSION, type RosterEntry, S_PONG, S_WELCOME, type WireEvent,
} from '../netcode/protocol.ts';
import type { Config } from './config.ts';
import { RateRule } from './ratelimit.ts';
import { UNCOUNTED_BYTES } from './seats.ts';
import { refuse, refuseVersion } from './seating.ts';
import type { Link } from './transport.ts';
import type { WireStats } from './wirestats.ts';

/** One spectator's connection and where its snapshots stand. */
export class Viewer {
  welcomed = false;
  /** Tick of the last snapshot sent on this link (the transport is ordered: the viewer holds it); 0 = none yet. */
  lastSent = 0;
  /** It asked for a full snapshot (ACK 0 after a snapshot failed to apply). */
  wantsFull = false;
  /** Events were delivered up to this tick. */
  eventTick = 0;
  /** On the room's channel (gets the shared publish). */
  joined = false;
  /** The message limit's state (RateRule). */
  readonly tat = new Float64Array(1);
  /** The slow-reader run (fanout.ts `slowReader`). */
  skipFrom = 0;
  lastSkipped = 0;
  /** The backpressure bound: bytes held when last asked, sent privately since, the channel's total then. */
  held = 0;
  sentSince = 0;
  publishedAt = 0;
  gone = false;

  constructor(readonly link: Link, readonly sid: string, readonly helloDeadline: number) {}

  /** seats.ts `seatBackedUp` for a spectator: asks its link only when what it may hold could pass `limit`. */
  backedUp(limit: number, published: number): boolean {
    if (this.held + this.sentSince + (published - this.publishedAt) <= limit - UNCOUNTED_BYTES) return false;
    this.held = this.link.buffered();
    this.sentSince = 0;
    this.publishedAt = published;
    return this.held > limit;
  }

  /** Off the room's channel: private copies until it holds the previous tick again. */
  offChannel(): void {
    this.link.join(false);
    this.joined = false;
  }
}

/** What a spectator's messages need of its room. */
export interface WatchHost {
  readonly code: string;
  readonly tick: number;
  roster(): RosterEntry[];
  roomTime(now: number): number;
  /** The fan-out still holds this tick (a spectator resuming from it gets a delta). */
  holds(tick: number): boolean;
}

export class Watchers {
  readonly all = new Set<Viewer>();
  /** The count players were last told (EV_WATCHERS). */
  private told = 0;
  private readonly rule: RateRule;

  constructor(private readonly cfg: Config, private readonly wire: WireStats) {
    this.rule = new RateRule(cfg.msgRatePerS, cfg.msgBurst);
  }

  get count(): number {
    return this.all.size;
  }

  /** A spectator's connection opened; null when the room has as many as it admits (refused and closing). */
  add(link: Link, sid: string, now: number): Viewer | null {
    if (this.all.size >= this.cfg.maxSpectatorsPerRoom) {
      refuse(link, CLOSE_ROOM_FULL, `this room has ${this.all.size} spectators, as many as it admits`, this.wire);
      return null;
    }
    const v = new Viewer(link, sid, now + this.cfg.helloTimeoutS * 1000);
    this.all.add(v);
    return v;
  }

  /** Its connection closed. */
  remove(v: Viewer): void {
    v.gone = true;
    this.all.delete(v);
  }

  /** One message from a spectator. Bad input closes that connection only. */
  receive(v: Viewer, bytes: Uint8Array, now: number, host: WatchHost): void {
    if (v.gone) return;
    if (!this.rule.take(v.tat, 0, now)) {
      refuse(v.link, CLOSE_RATE_LIMIT, 'too many messages', this.wire);
      return;
    }
    const d = decodeClient(bytes);
    if (!d.ok) {
      refuse(v.link, CLOSE_BAD_MESSAGE, d.reason, this.wire);
      return;
    }
    const msg = d.msg;
    if (msg.type === C_INPUT || msg.type === C_CHAT) {
      refuse(v.link, CLOSE_SPECTATOR, `spectators cannot send ${msg.type === C_INPUT ? 'inputs' : 'chat'}: join the room to play`, this.wire);
      return;
    }
    if (msg.type === C_HELLO) {
      if (msg.version !== PROTOCOL_VERSION) {
        refuseVersion(v.link, msg.version, this.wire);
      } else if (!v.welcomed) this.welcome(v, host, msg.resumeTick);
      return; // a second HELLO is ignored: an SSE stream is welcomed when it opens, and its client still says HELLO
    }
    if (!v.welcomed) {
      refuse(v.link, CLOSE_NO_HELLO, 'first message must be HELLO', this.wire);
      return;
    }
    if (msg.type === C_ACK) {
      if (msg.ackTick === 0) v.wantsFull = true;
    } else if (msg.type === C_PING) {
      v.link.send(encodeServer({ type: S_PONG, clientTime: msg.clientTime, serverTime: host.roomTime(now) }));
    }
  }

  /** WELCOME with player id 0; resuming from `resumeTick` by delta when the room still holds it. */
  welcome(v: Viewer, host: WatchHost, resumeTick: number): void {
    this.wire.joins++;
    v.welcomed = true;
    const resumed = resumeTick > 0 && resumeTick <= host.tick && host.holds(resumeTick);
    v.lastSent = resumed ? resumeTick : 0;
    v.eventTick = host.tick; // the roster below covers everything before now
    v.link.send(encodeServer({
      type: S_WELCOME, version: PROTOCOL_VERSION, playerId: 0, tickRate: this.cfg.tickRate, serverTick: host.tick, room: host.code,
      roster: host.roster(), resumed, lastSeq: 0, instance: this.cfg.instanceId, watchers: this.all.size,
    }));
  }

  /** Closes spectators that said no HELLO in time (checked now and then: a deadline is seconds long). */
  expire(now: number): void {
    for (const v of this.all) if (!v.welcomed && now > v.helloDeadline) refuse(v.link, CLOSE_NO_HELLO, 'no HELLO in time', this.wire);
  }

  /** EV_WATCHERS when the count changed since players were last told. */
  news(): WireEvent | null {
    if (this.all.size === this.told) return null;
    this.told = this.all.size;
    return [EV_WATCHERS, this.told];
  }

  /** Every spectator's link (a room moving tells them too). */
  links(): Link[] {
    return [...this.all].map((v) => v.link);
  }

  /** Closes every spectator (the room closes or the server stops); `told` says whether to send ERROR first. */
  closeAll(code: number, reason: string, told = true): void {
    const all = [...this.all];
    this.all.clear();
    for (const v of all) {
      v.gone = true;
      if (told) refuse(v.link, code, reason);
      else v.link.close(code, reason);
    }
  }
}
