/**
 * A room's way from a draining instance to its new owner, through Redis. The sender
 * writes the room (roomstate.ts bytes: world, seats, scores, round clock, each seat's
 * last input seq, bans, chat) under a key of its own with a short TTL and tells the
 * receiver on the bus (`handover`). The receiver takes the key (GETDEL: exactly once),
 * checks it like any input from outside, restores the room, takes the code over in the
 * directory (TRANSFER) and answers (`took`), ok or with the reason it could not. Only
 * then does the sender tell the room's players where to go (drain.ts): a room is never
 * without an owner that runs it, and never run by two.
 *
 * Chat that reaches the sender after it packed the room follows in a `late` message.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { decodeSavedRooms, encodeSavedRooms, type RoomState, RoomStateError } from '../roomstate.ts';
import type { RoomManager } from '../rooms.ts';
import { BUS_VERSION, type BusMessage, type LateChat, MAX_LATE_CHAT } from './bus.ts';
import type { InstanceRecord } from './records.ts';
import type { RedisLink } from './redis.ts';
import { KEYS } from './scripts.ts';

export interface HandoverDeps {
  redis: RedisLink;
  cfg: Config;
  manager: RoomManager;
  log: Logger;
  /** Monotonic ms (the rooms' clock). */
  now: () => number;
  wallMs: () => number;
  after: (ms: number, fn: () => void) => void;
  newId: () => string;
  /** This instance is draining: it takes no room. */
  draining: () => boolean;
  failed: (op: string, err: unknown) => void;
}

export type HandoverResult = { ok: true; bytes: number } | { ok: false; reason: string };

/** A room waits in Redis this long for its new owner to take it. */
const KEY_TTL_MS = 30_000;

export class Handover {
  /** Rooms received from draining instances, and refused (with the reason logged). */
  readonly counters = { received: 0, refused: 0 };
  private readonly waiting = new Map<string, (ok: boolean, reason: string) => void>();

  constructor(private readonly d: HandoverDeps) {}

  private get me(): string {
    return this.d.cfg.instanceId;
  }

  private publish(m: BusMessage): Promise<number> {
    return this.d.redis.publish(JSON.stringify(m));
  }

  /** Hands `state` to instance `to`; resolves once `to` runs the room, or with why not (within `timeoutMs`). */
  async send(state: RoomState, to: InstanceRecord, timeoutMs: number): Promise<HandoverResult> {
    const req = this.d.newId();
    const key = `${KEYS.handover}${state.code}:${req}`;
    const bytes = encodeSavedRooms({ savedAt: this.d.wallMs(), tickRate: this.d.cfg.tickRate, rooms: [state] });
    const answer = new Promise<HandoverResult>((resolve) => {
      const done = (ok: boolean, reason: string) => {
        if (!this.waiting.delete(req)) return;
        resolve(ok ? { ok: true, bytes: bytes.length } : { ok: false, reason });
      };
      this.waiting.set(req, done);
      this.d.after(timeoutMs, () => done(false, `no answer from instance ${to.id} within ${(timeoutMs / 1000).toFixed(1)} s`));
    });
    try {
      await this.d.redis.cmd.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', KEY_TTL_MS);
      const heard = await this.publish({ v: BUS_VERSION, type: 'handover', from: this.me, to: to.id, req, code: state.code, key });
      if (heard === 0) this.waiting.get(req)?.(false, 'nobody is subscribed to the bus');
    } catch (err) {
      this.waiting.get(req)?.(false, `Redis: ${(err as Error).message}`);
    }
    const r = await answer;
    // Not taken: the key must not outlive the attempt (a late receiver then finds nothing and refuses).
    if (!r.ok) this.d.redis.cmd.del(key).catch(() => {});
    return r;
  }

  /** Chat said in the room after it was packed, for its new owner. */
  sendLate(code: string, to: string, chat: readonly LateChat[]): void {
    for (let i = 0; i < chat.length; i += MAX_LATE_CHAT) {
      const part = chat.slice(i, i + MAX_LATE_CHAT);
      this.publish({ v: BUS_VERSION, type: 'late', from: this.me, to, code, chat: part }).catch((err) => this.d.failed('late chat', err));
    }
  }

  /** A bus message about a hand-over; false when it is not one. */
  onBus(m: BusMessage): boolean {
    switch (m.type) {
      case 'handover':
        if (m.to === this.me) void this.take(m);
        return true;
      case 'took':
        if (m.to === this.me) this.waiting.get(m.req)?.(m.ok, m.reason);
        return true;
      case 'late':
        if (m.to === this.me) this.d.manager.get(m.code)?.addChat(m.chat);
        return true;
      default:
        return false;
    }
  }

  /** Takes a room a draining instance sent: restore, claim, answer. */
  private async take(m: Extract<BusMessage, { type: 'handover' }>): Promise<void> {
    const t0 = this.d.now();
    const reason = await this.restore(m).catch((err: Error) => `Redis: ${err.message}`);
    const ok = reason === null;
    if (ok) this.counters.received++;
    else this.counters.refused++;
    const ms = (this.d.now() - t0).toFixed(1);
    if (ok) this.d.log('info', `handover: took room ${m.code} from instance ${m.from} in ${ms} ms`);
    else this.d.log('warn', `handover: refused room ${m.code} from instance ${m.from}: ${reason}`);
    const answer: BusMessage = { v: BUS_VERSION, type: 'took', from: this.me, to: m.from, req: m.req, code: m.code, ok, reason: reason ?? '' };
    this.publish(answer).catch((err) => this.d.failed('handover answer', err));
  }

  /** null once the room runs here and the directory says so; otherwise why not. */
  private async restore(m: Extract<BusMessage, { type: 'handover' }>): Promise<string | null> {
    const { manager, cfg, redis } = this.d;
    if (this.d.draining()) return `instance ${this.me} is draining too`;
    const bytes = await redis.cmd.getdelBuffer(m.key);
    if (bytes === null) return 'the room was no longer in Redis (its sender gave up)';
    let room: RoomState;
    let savedAt: number;
    try {
      const saved = decodeSavedRooms(bytes);
      if (saved.tickRate !== cfg.tickRate) return `sent at ${saved.tickRate} Hz, this instance runs at ${cfg.tickRate} Hz (TICK_RATE)`;
      if (saved.rooms.length !== 1 || saved.rooms[0].code !== m.code) return `expected room ${m.code} alone`;
      room = saved.rooms[0];
      savedAt = saved.savedAt;
    } catch (err) {
      if (err instanceof RoomStateError) return err.message;
      throw err;
    }
    if (manager.get(m.code)) return `a room ${m.code} already runs here`;
    if (manager.rooms.size >= cfg.maxRooms) return `this instance holds MAX_ROOMS (${cfg.maxRooms}) rooms`;
    manager.restore([room], this.d.now(), Math.max(0, this.d.wallMs() - savedAt));
    let owner: number | string;
    try {
      owner = await redis.cmd.twTransfer(KEYS.rooms, KEYS.claims + m.from, KEYS.claims + this.me, m.code, m.from, this.me, KEYS.inst);
    } catch (err) {
      owner = `(unknown: ${(err as Error).message})`;
    }
    if (owner === 1) return null;
    const here = manager.get(m.code);
    if (here) manager.remove(here);
    return `instance ${owner} owns room ${m.code} in the directory`;
  }
}
