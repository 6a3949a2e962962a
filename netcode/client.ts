/**
 * The protocol side of a game client, shared by the browser and the bots:
 * HELLO/WELCOME, applying snapshots into a Replica with checksum verification,
 * acknowledgements, and input sequencing with a redundant tail. It never touches
 * a socket or a clock: it returns the bytes to send and takes `now` (ms).
 *
 * Inputs: each call to `input()` makes the next sequence number and an INPUT
 * message carrying it plus up to `redundancy - 1` earlier unacknowledged inputs,
 * so one lost or late message costs nothing. Inputs the server has applied
 * (the seat fields of our own entity, see SeatSpec in schema.ts) leave the
 * pending buffer, which is bounded.
 *
 * Spectators (a WELCOME with playerId 0, after `&spectate=1` on the URL) have no seat:
 * no own entity, so nothing to predict or reconcile, and everything is interpolated.
 * They may send HELLO, PING and ACK 0 only (INPUT or CHAT gets CLOSE_SPECTATOR): `input`
 * and `chat` throw for one, `ack` always carries 0 ("a full snapshot, please"), and
 * `fullRequest(now)` says when to send it: after a snapshot failed to apply, at most once
 * per FULL_REQUEST_EVERY_MS until one applies again.
 */
import { decodeServer, encodeClient } from './codec.ts';
import type { Frame } from './frame.ts';
import {
  C_ACK, C_CHAT, C_HELLO, C_INPUT, C_PING, EV_DROP, EV_JOIN, EV_LEAVE, EV_RESUME, EV_ROSTER, EV_WATCHERS, type InputFrame, type InputIntent, LIMITS,
  PROTOCOL_VERSION, type RosterEntry, S_ERROR, S_MOVE, S_PONG, S_REDIRECT, S_SNAPSHOT, S_WELCOME, type ServerMessage, type WireEvent,
} from './protocol.ts';
import { BASELINE_GONE, DESYNC, Replica } from './replica.ts';
import { fieldValue, type Schema } from './schema.ts';

export interface SnapshotInfo {
  tick: number;
  frame: Frame;
  /** Last input seq of ours the server applied. */
  lastSeq: number;
  /** Our authoritative position at lastSeq when the server is guessing ahead (the seat's anchor fields). */
  own?: { x: number; y: number };
  events: WireEvent[];
}

export interface ClientStats {
  snapshots: number;
  desyncs: number;
  decodeErrors: number;
  /** Snapshots that could not apply while a full one was awaited (after a desync): expected, not errors. */
  awaitingFull: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RosterMember {
  name: string;
  connected: boolean;
}

export type ClientEvent =
  | {
      kind: 'welcome'; playerId: number; tickRate: number; serverTick: number; room: string; resumed: boolean; instance: string;
      /** Spectators of the room now (this one included, for a spectator). */
      watchers: number;
    }
  /**
   * The room lives on another instance: connect to `url` (a ws:// or wss:// endpoint) with the
   * same room and token, at once. The socket closes with CLOSE_REDIRECT right after.
   * `moved`: a MOVE, the room moved there with our seat (its instance drains for a deploy).
   */
  | { kind: 'redirect'; url: string; instance: string; reason: string; moved: boolean }
  | { kind: 'snapshot'; snap: SnapshotInfo }
  | { kind: 'pong'; clientTime: number; serverTime: number; now: number }
  | { kind: 'error'; code: number; reason: string }
  /**
   * A message that could not be used. A snapshot that failed to apply still
   * carries its events (chat, kills, round changes): the server counts them as
   * delivered, so they are handed on here rather than lost.
   */
  | { kind: 'bad'; reason: string; events?: WireEvent[] };

/** Most inputs held unacknowledged; beyond it the oldest are dropped (the server stopped answering). */
export const MAX_PENDING_INPUTS = 128;

/** A spectator waiting for a full snapshot repeats its ACK 0 this often (ms): the first may have crossed a skipped tick. */
export const FULL_REQUEST_EVERY_MS = 1000;

export class NetClient {
  readonly replica: Replica;
  playerId = 0;
  tickRate = 0;
  room = '';
  /** The instance that owns the room, from WELCOME ('' on a standalone server). */
  instance = '';
  readonly roster = new Map<number, RosterMember>();
  /** The last WELCOME gave no seat (playerId 0): watch only. */
  spectator = false;
  /** The room's spectators, from WELCOME and EV_WATCHERS. */
  watchers = 0;
  /** Newest snapshot tick applied (0 = none, or a full snapshot is wanted). */
  ackTick = 0;
  /** Server tick of the newest snapshot applied. */
  serverTick = 0;
  lastSeqAcked = 0;
  private nextSeq = 1;
  /** A spectator's snapshot failed to apply: it asks for a full one (ACK 0) until one applies. */
  private wantsFull = false;
  private nextFullRequestAt = -Infinity;
  readonly pending: (InputFrame & { sentAt: number })[] = [];
  readonly stats: ClientStats = { snapshots: 0, desyncs: 0, decodeErrors: 0, awaitingFull: 0, bytesIn: 0, bytesOut: 0 };

  private readonly redundancy: number;

  /**
   * `redundancy`: inputs per INPUT message (the newest and the unacknowledged ones
   * before it). `frames`: applied frames kept as baselines (see Replica); the server
   * deltas against the previous tick or this client's last ack, a tick or two back
   * while the client keeps up, so a few frames do; 64 cover a client that lags.
   * `recycleFrames`: see Replica (only for a caller that keeps no frame itself).
   */
  constructor(private readonly schema: Schema, opts: { redundancy?: number; frames?: number; recycleFrames?: boolean } = {}) {
    this.redundancy = opts.redundancy ?? LIMITS.maxInputsPerMessage;
    this.replica = new Replica(schema, opts.frames ?? 64, { recycle: opts.recycleFrames });
  }

  /** First message on a (re)opened socket. Resuming, it names the newest tick still held. */
  hello(): Uint8Array {
    return this.out(encodeClient({ type: C_HELLO, version: PROTOCOL_VERSION, resumeTick: this.ackTick }));
  }

  /** Decodes one server message and updates state; returns what happened for the app. */
  receive(bytes: Uint8Array, now: number): ClientEvent {
    this.stats.bytesIn += bytes.byteLength;
    const d = decodeServer(bytes);
    if (!d.ok) {
      this.stats.decodeErrors++;
      return { kind: 'bad', reason: d.reason };
    }
    return this.handle(d.msg, now);
  }

  private handle(msg: ServerMessage, now: number): ClientEvent {
    switch (msg.type) {
      case S_WELCOME:
        this.playerId = msg.playerId;
        this.tickRate = msg.tickRate;
        this.room = msg.room;
        this.instance = msg.instance;
        this.spectator = msg.playerId === 0;
        this.watchers = msg.watchers;
        this.wantsFull = false; // a welcome is followed by a snapshot the server chose for what we said we hold
        this.roster.clear();
        for (const [id, name, connected] of msg.roster) this.roster.set(id, { name, connected: connected === 1 });
        // A resumed seat continues numbering after what it applied; inputs it never got are resent.
        this.lastSeqAcked = msg.lastSeq;
        if (msg.resumed) {
          while (this.pending.length && this.pending[0].seq <= msg.lastSeq) this.pending.shift();
          this.nextSeq = Math.max(this.nextSeq, msg.lastSeq + 1);
        } else {
          this.pending.length = 0;
          this.nextSeq = msg.lastSeq + 1;
          this.replica.reset();
          this.ackTick = 0;
        }
        return {
          kind: 'welcome', playerId: msg.playerId, tickRate: msg.tickRate, serverTick: msg.serverTick, room: msg.room,
          resumed: msg.resumed, instance: msg.instance, watchers: msg.watchers,
        };
      case S_SNAPSHOT: {
        const r = this.replica.apply(msg.baseTick, msg.tick, msg.body, msg.checksum);
        for (const e of msg.events) this.applyEvent(e);
        if (!r.ok) {
          // After a failure we lack the baseline of the room's shared snapshots until a full one comes.
          if (this.ackTick === 0 && r.error === BASELINE_GONE) this.stats.awaitingFull++;
          else if (r.error === DESYNC) this.stats.desyncs++;
          else this.stats.decodeErrors++;
          this.ackTick = 0; // ask for a full snapshot
          if (this.spectator && !this.wantsFull) {
            this.wantsFull = true;
            this.nextFullRequestAt = -Infinity;
          }
          return { kind: 'bad', reason: `snapshot ${msg.tick}: ${r.error}`, events: msg.events };
        }
        this.stats.snapshots++;
        this.wantsFull = false;
        this.ackTick = msg.tick;
        this.serverTick = msg.tick;
        const snap: SnapshotInfo = { tick: msg.tick, frame: r.frame, lastSeq: this.lastSeqAcked, events: msg.events };
        this.readSeat(r.frame, snap);
        this.lastSeqAcked = snap.lastSeq;
        while (this.pending.length && this.pending[0].seq <= snap.lastSeq) this.pending.shift();
        return { kind: 'snapshot', snap };
      }
      case S_PONG:
        return { kind: 'pong', clientTime: msg.clientTime, serverTime: msg.serverTime, now };
      case S_ERROR:
        return { kind: 'error', code: msg.code, reason: msg.reason };
      case S_REDIRECT:
      case S_MOVE:
        return { kind: 'redirect', url: msg.url, instance: msg.instance, reason: msg.reason, moved: msg.type === S_MOVE };
    }
  }

  /**
   * Reads our own entity's seat fields into `snap`: the last input seq applied is
   * the one at or below our newest seq sent that matches (seq - tick) mod 2^bits;
   * the anchor, when not 0, is where our reconciliation starts.
   */
  private readSeat(frame: Frame, snap: SnapshotInfo): void {
    const seat = this.schema.seat;
    if (!seat || this.playerId === 0) return;
    const { ids, types, values } = frame;
    let lo = 0;
    let hi = frame.count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] < this.playerId) lo = mid + 1;
      else hi = mid;
    }
    if (frame.count === 0 || ids[lo] !== this.playerId || types[lo] !== seat.type) return;
    const t = this.schema.types[seat.type];
    const at = lo * this.schema.stride;
    const newest = this.nextSeq - 1;
    const behind = (((newest - frame.tick - values[at + seat.seq]) % seat.seqMod) + seat.seqMod) % seat.seqMod;
    snap.lastSeq = Math.max(0, newest - behind);
    const ax = fieldValue(t, seat.anchorX, values[at + seat.anchorX]);
    const ay = fieldValue(t, seat.anchorY, values[at + seat.anchorY]);
    if (ax !== 0 || ay !== 0) {
      const x = fieldValue(t, t.xField, values[at + t.xField]);
      const y = fieldValue(t, t.yField, values[at + t.yField]);
      snap.own = { x: x + ax, y: y + ay };
    }
  }

  private applyEvent(e: WireEvent): void {
    const id = e[1] as number;
    switch (e[0]) {
      case EV_JOIN: this.roster.set(id, { name: String(e[2]), connected: true }); break;
      case EV_LEAVE: this.roster.delete(id); break;
      case EV_DROP: { const m = this.roster.get(id); if (m) m.connected = false; break; }
      case EV_RESUME: { const m = this.roster.get(id); if (m) m.connected = true; break; }
      case EV_ROSTER:
        this.roster.clear();
        for (const [rid, name, c] of e[1] as RosterEntry[]) this.roster.set(rid, { name, connected: c === 1 });
        break;
      case EV_WATCHERS: this.watchers = id; break;
    }
  }

  /**
   * Records the next input and returns it with the INPUT message to send now.
   * `viewTick` is the server tick whose remote state the player was looking at.
   */
  input(input: InputIntent, viewTick: number, now: number): { seq: number; bytes: Uint8Array } {
    if (this.spectator) throw new Error('NetClient: a spectator sends no inputs (the server would close it with CLOSE_SPECTATOR)');
    const frame = { seq: this.nextSeq++, buttons: input.buttons, aim: input.aim, sentAt: now };
    this.pending.push(frame);
    if (this.pending.length > MAX_PENDING_INPUTS) this.pending.shift();
    const tail = this.pending.slice(-this.redundancy);
    const bytes = encodeClient({ type: C_INPUT, ackTick: this.ackTick, viewTick, inputs: tail });
    return { seq: frame.seq, bytes: this.out(bytes) };
  }

  /** ACK of the newest snapshot applied; a spectator's is always ACK 0 (the only ACK it may send: a full snapshot, please). */
  ack(): Uint8Array {
    return this.out(encodeClient({ type: C_ACK, ackTick: this.spectator ? 0 : this.ackTick }));
  }

  /**
   * A spectator's ACK 0 when it is due: a snapshot failed to apply and none has since,
   * at most once per FULL_REQUEST_EVERY_MS. Null otherwise (and always for a player:
   * its next INPUT or ACK carries ackTick 0 by itself).
   */
  fullRequest(now: number): Uint8Array | null {
    if (!this.spectator || !this.wantsFull || now < this.nextFullRequestAt) return null;
    this.nextFullRequestAt = now + FULL_REQUEST_EVERY_MS;
    return this.ack();
  }

  ping(now: number): Uint8Array {
    return this.out(encodeClient({ type: C_PING, clientTime: now }));
  }

  chat(text: string): Uint8Array {
    if (this.spectator) throw new Error('NetClient: a spectator cannot chat (the server would close it with CLOSE_SPECTATOR)');
    return this.out(encodeClient({ type: C_CHAT, text }));
  }

  private out(bytes: Uint8Array): Uint8Array {
    this.stats.bytesOut += bytes.byteLength;
    return bytes;
  }
}
