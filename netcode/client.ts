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
 */
import type { Input } from '../game/sim/state.ts';
import { decodeServer, encodeClient } from './codec.ts';
import type { Frame } from './frame.ts';
import {
  C_ACK, C_CHAT, C_HELLO, C_INPUT, C_PING, EV_DROP, EV_JOIN, EV_LEAVE, EV_RESUME, EV_ROSTER, type InputFrame, LIMITS,
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
  | { kind: 'welcome'; playerId: number; tickRate: number; serverTick: number; room: string; resumed: boolean; instance: string }
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

export class NetClient {
  readonly replica: Replica;
  playerId = 0;
  tickRate = 0;
  room = '';
  /** The instance that owns the room, from WELCOME ('' on a standalone server). */
  instance = '';
  readonly roster = new Map<number, RosterMember>();
  /** Newest snapshot tick applied (0 = none, or a full snapshot is wanted). */
  ackTick = 0;
  /** Server tick of the newest snapshot applied. */
  serverTick = 0;
  lastSeqAcked = 0;
  private nextSeq = 1;
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
          resumed: msg.resumed, instance: msg.instance,
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
          return { kind: 'bad', reason: `snapshot ${msg.tick}: ${r.error}`, events: msg.events };
        }
        this.stats.snapshots++;
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
    }
  }

  /**
   * Records the next input and returns it with the INPUT message to send now.
   * `viewTick` is the server tick whose remote state the player was looking at.
   */
  input(input: Input, viewTick: number, now: number): { seq: number; bytes: Uint8Array } {
    const frame = { seq: this.nextSeq++, buttons: input.buttons, aim: input.aim, sentAt: now };
    this.pending.push(frame);
    if (this.pending.length > MAX_PENDING_INPUTS) this.pending.shift();
    const tail = this.pending.slice(-this.redundancy);
    const bytes = encodeClient({ type: C_INPUT, ackTick: this.ackTick, viewTick, inputs: tail });
    return { seq: frame.seq, bytes: this.out(bytes) };
  }

  ack(): Uint8Array {
    return this.out(encodeClient({ type: C_ACK, ackTick: this.ackTick }));
  }

  ping(now: number): Uint8Array {
    return this.out(encodeClient({ type: C_PING, clientTime: now }));
  }

  chat(text: string): Uint8Array {
    return this.out(encodeClient({ type: C_CHAT, text }));
  }

  private out(bytes: Uint8Array): Uint8Array {
    this.stats.bytesOut += bytes.byteLength;
    return bytes;
  }
}
