import type { Config } from './config.ts';
import { type AppliedLog, InputQueue, InputRule, queueNumbers } from './inputs.ts';
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
  /** The input queues' rule; its log (`applied`) is the room's, emptied every step. */
  inputRule: InputRule;
  applied: AppliedLog;
  /** Ticks each member's record of private sends reaches back (its `SentViews` ring). */
  ringTicks: number;
  /** The member in each row, by row number (offset / width): for the paths that need more than the row. */
  seated: (Member | undefined)[];
}

/*
 * A member's row in the seat table: the numbers every message or every tick reads or
 * writes for it, then its input queue (counters and entries). A message, the step and
 * the fan-out loop thus touch the row and, in the common case, no member, queue or
 * link object: see `Room.receive`, `Room.step` and `SnapshotFanout.send`.
 *
 * Order matters: what a message reads (socket state, message limit, ack, shared run,
 * last sent tick) comes right before the queue's counters (head, length, highest seq),
 * so an INPUT's reads are 8 consecutive numbers, one or two cache lines; the fields
 * only the tick uses come first.
 */
/** The view tick: see `Member.viewTick` (a message writes it, nothing on its path reads it). */
export const SEAT_VIEW = 0;
/** 1 while the current link is on the room's channel: see `Member.joined`. */
export const SEAT_JOINED = 1;
/** 1 while the member has notices waiting: see `Member.notices`. */
export const SEAT_NOTICES = 2;
/** Events up to this tick have been delivered: see `Member.eventTick`. */
export const SEAT_EVENT_TICK = 3;
/** The backpressure bound (`seatBackedUp`): held when last asked, sent since, the channel's total then. */
const HELD = 4;
const SENT_SINCE = 5;
const PUBLISHED_AT = 6;
/** The socket's state: SOCKET_NONE, SOCKET_OPEN (no HELLO yet) or SOCKET_WELCOMED. */
export const SEAT_SOCKET = 7;
export const SOCKET_NONE = 0;
export const SOCKET_OPEN = 1;
export const SOCKET_WELCOMED = 2;
/** The message limit's state (`RateRule`). */
export const SEAT_TAT = 8;
/** The ack (delta baseline): see `Member.ackTick`. */
export const SEAT_ACK = 9;
const SHARED_FROM = 10;
/** Tick of the last snapshot sent on the current link: see `Member.lastSentTick`. */
export const SEAT_LAST_SENT = 11;
/** Where the input queue's numbers start in the row: its counters first (see inputs.ts). */
export const SEAT_QUEUE = 12;

/** Numbers a member keeps in its seat table row. */
export const seatNumbers = (cfg: Config): number => SEAT_QUEUE + queueNumbers(cfg.inputQueueLimit);

/** A room's seat context for `seats` members, with the message limit of `cfg`. */
export function seatContext(cfg: Config, seats: number): SeatContext {
  const applied: AppliedLog = { at: [], count: 0 };
  return {
    table: new SeatTable(seats, seatNumbers(cfg)),
    msgRule: new RateRule(cfg.msgRatePerS, cfg.msgBurst),
    inputRule: new InputRule({ limit: cfg.inputQueueLimit, maxPerTick: cfg.maxInputsPerTick, reuseTicks: cfg.inputReuseTicks }, applied),
    applied,
    ringTicks: cfg.historyTicks,
    seated: new Array(seats).fill(undefined),
  };
}

/** Room in the bound for frames uWS sends by itself (pings and pongs, a few bytes each per idle period). */
const UNCOUNTED_BYTES = 1024;
/**
 * What one message adds to a socket's buffer beyond its payload, at most: the
 * WebSocket frame header of a server message (2, 4 or 10 bytes, unmasked). The bound
 * counts every message, sent or published, at its payload plus this.
 */
export const FRAME_BYTES = 10;

/**
 * Whether more than `limit` bytes wait in the socket of member `m` (row `row` of `d`),
 * accepted but not yet written to the kernel (backpressure). `published` is the running
 * total of bytes published on the room's channel (each message counted with
 * FRAME_BYTES), which reach the socket without passing through `Member.send`.
 *
 * A socket's buffer grows only by what is sent to it, so "held when last asked, plus
 * sent since" bounds it: while that bound stays UNCOUNTED_BYTES within the limit, the
 * answer is no, as asking would have told. The room checks every client every tick;
 * a healthy socket (0 held) is asked again only after nearly a limit's worth of bytes
 * went to it, instead of once a tick (a native call and three more cold cache lines
 * per client: member, link, socket).
 */
export function seatBackedUp(d: Float64Array, row: number, limit: number, published: number, m: Member): boolean {
  if (d[row + HELD] + d[row + SENT_SINCE] + (published - d[row + PUBLISHED_AT]) <= limit - UNCOUNTED_BYTES) return false;
  const held = m.link === null ? 0 : m.link.buffered();
  d[row + HELD] = held;
  d[row + SENT_SINCE] = 0;
  d[row + PUBLISHED_AT] = published;
  return held > limit;
}

/** `tick` went out to the member in row `row` through the room's channel: see `Member.sentShared`. */
export function seatSentShared(d: Float64Array, row: number, tick: number): void {
  if (d[row + SHARED_FROM] === 0) d[row + SHARED_FROM] = tick;
  d[row + SEAT_LAST_SENT] = tick;
}

/** `seatSent`'s answers. */
export const SENT_UNKNOWN = 0;
export const SENT_ALL_VIEW = 1;
export const SENT_ASK_RING = 2;

/**
 * Whether the member in row `row` of `d` was sent `tick`, as far as its shared run tells:
 * SENT_ALL_VIEW (sent in the view of all), SENT_UNKNOWN (not on record), or SENT_ASK_RING
 * (the run does not say: its ring of private sends answers). Exactly what the ring would
 * answer had every tick of a live run been written to it: a run tick is known while
 * within the ring's reach, and an older tick whose slot a run tick would have
 * overwritten is forgotten. A function of the row alone, for the message path.
 */
export function seatSent(d: Float64Array, row: number, tick: number, ringTicks: number): number {
  const from = d[row + SHARED_FROM];
  if (from > 0) {
    const last = d[row + SEAT_LAST_SENT];
    if (tick >= from && tick <= last) return tick > last - ringTicks ? SENT_ALL_VIEW : SENT_UNKNOWN;
    if (tick < from && ((((tick - from) % ringTicks) + ringTicks) % ringTicks) <= last - from) return SENT_UNKNOWN;
  }
  return SENT_ASK_RING;
}

/**
 * One player's seat in a room, which outlives its socket: a dropped member keeps
 * its entity and score for the resume grace period, and a reconnect with the
 * same session rebinds the seat to the new socket.
 */
export class Member {
  playerId = 0; // 0 until HELLO put a player in the world
  private socket: Link | null;
  private hasSaidHello = false;
  helloDeadline: number; // ms
  droppedAt: number | null = null; // ms
  readonly inputs: InputQueue;
  readonly chatBucket: TokenBucket;
  /** This member's row in the room's seat table (released by `release`): see SEAT_* for its layout. */
  readonly row: number;
  private readonly seats: SeatContext;
  private readonly d: Float64Array; // the seat table's numbers

  /**
   * View key of each private snapshot sent, by tick, to rebuild the baseline the
   * client holds. Shared snapshots are not written here one by one: see `sharedFrom`.
   */
  private readonly sent: SentViews;
  private noticeList: WireEvent[] | null = null;
  snapshotsSkipped = 0;
  /** The seat is gone for good (`release`): its row may be another member's now. */
  released = false;

  constructor(readonly sid: string, readonly name: string, link: Link, now: number, cfg: Config, seats: SeatContext) {
    this.seats = seats;
    this.d = seats.table.data;
    this.row = seats.table.take();
    seats.seated[this.row / seats.table.width] = this;
    this.socket = link;
    this.syncSocket();
    this.helloDeadline = now + cfg.helloTimeoutS * 1000;
    this.d[this.row + SEAT_TAT] = now; // the message limit starts with its whole burst
    this.inputs = new InputQueue(seats.inputRule, { data: this.d, offset: this.row + SEAT_QUEUE });
    this.chatBucket = new TokenBucket(cfg.chatRatePerS, cfg.chatBurst, now);
    this.sent = new SentViews(seats.ringTicks);
  }

  /** The current socket (null while dropped). */
  get link(): Link | null {
    return this.socket;
  }

  set link(link: Link | null) {
    this.socket = link;
    this.syncSocket();
    this.d[this.row + HELD] = 0; // a new socket holds nothing yet
    this.d[this.row + SENT_SINCE] = 0;
  }

  /** Whether the current socket said HELLO. */
  get welcomed(): boolean {
    return this.hasSaidHello;
  }

  set welcomed(on: boolean) {
    this.hasSaidHello = on;
    this.syncSocket();
  }

  /** The socket's state in the row, which the message path reads instead of this object. */
  private syncSocket(): void {
    this.d[this.row + SEAT_SOCKET] = this.socket === null ? SOCKET_NONE : this.hasSaidHello ? SOCKET_WELCOMED : SOCKET_OPEN;
  }

  /** Newest snapshot tick this client acknowledged (0 = none): its delta baseline. */
  get ackTick(): number {
    return this.d[this.row + SEAT_ACK];
  }

  set ackTick(tick: number) {
    this.d[this.row + SEAT_ACK] = tick;
  }

  /** The tick whose remote state the player saw when acting (lag compensation). */
  get viewTick(): number {
    return this.d[this.row + SEAT_VIEW];
  }

  set viewTick(tick: number) {
    this.d[this.row + SEAT_VIEW] = tick;
  }

  /** Tick of the last snapshot sent on the current link (0 = none yet). */
  get lastSentTick(): number {
    return this.d[this.row + SEAT_LAST_SENT];
  }

  private set lastSentTick(tick: number) {
    this.d[this.row + SEAT_LAST_SENT] = tick;
  }

  /** Whether the current link has joined the room's channel (gets the shared snapshot). */
  get joined(): boolean {
    return this.d[this.row + SEAT_JOINED] === 1;
  }

  set joined(on: boolean) {
    this.d[this.row + SEAT_JOINED] = on ? 1 : 0;
  }

  /** Events up to this tick have been delivered. */
  get eventTick(): number {
    return this.d[this.row + SEAT_EVENT_TICK];
  }

  set eventTick(tick: number) {
    this.d[this.row + SEAT_EVENT_TICK] = tick;
  }

  /** Events for this client alone (notices), delivered with its next snapshot; null when none (flagged in the row). */
  get notices(): WireEvent[] | null {
    return this.noticeList;
  }

  set notices(list: WireEvent[] | null) {
    this.noticeList = list;
    this.d[this.row + SEAT_NOTICES] = list === null ? 0 : 1;
  }

  /** Sends on the current socket (nothing while dropped), counted for the backpressure bound. */
  send(bytes: Uint8Array): void {
    if (this.socket === null) return;
    this.d[this.row + SENT_SINCE] += bytes.byteLength + FRAME_BYTES;
    this.socket.send(bytes);
  }

  /** See `seatBackedUp`. */
  backedUp(limit: number, published: number): boolean {
    return seatBackedUp(this.d, this.row, limit, published, this);
  }

  /**
   * First tick of the current run of shared snapshots (0 = not in one): the client
   * was sent every tick from here to `lastSentTick` through the room's channel, in
   * the view of all. Kept as a range so the common tick writes no sent-view entry
   * per client (another cold cache line among 500 clients); `endShared` writes the
   * run into `sent` when it ends.
   */
  private get sharedFrom(): number {
    return this.d[this.row + SHARED_FROM];
  }

  private set sharedFrom(tick: number) {
    this.d[this.row + SHARED_FROM] = tick;
  }

  /** Counts one message against the limit; false when over it. */
  takeMessage(now: number): boolean {
    return this.seats.msgRule.take(this.d, this.row + SEAT_TAT, now);
  }

  /** The seat is gone for good: its row goes back to the table. */
  release(): void {
    this.released = true;
    this.seats.seated[this.row / this.seats.table.width] = undefined;
    this.d.fill(0, this.row, this.row + this.seats.table.width); // a free row reads as no socket
    this.seats.table.release(this.row);
  }

  /**
   * The view key this client was sent at `tick`, or undefined if not on record (no
   * baseline). Exactly what the ring would answer had every tick of a live run been
   * written to it: a run tick is known while within the ring's reach, and an older
   * tick whose slot a run tick would have overwritten is forgotten.
   */
  sentView(tick: number): number | undefined {
    const known = seatSent(this.d, this.row, tick, this.seats.ringTicks);
    return known === SENT_ASK_RING ? this.sent.get(tick) : known === SENT_ALL_VIEW ? ALL_VIEW : undefined;
  }

  /** What the ring of private sends alone says of `tick` (when `seatSent` answered SENT_ASK_RING). */
  sentPrivately(tick: number): number | undefined {
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
    seatSentShared(this.d, this.row, tick);
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
    for (let t = Math.max(this.sharedFrom, last - this.seats.ringTicks + 1); t <= last; t++) this.sent.record(t, ALL_VIEW);
    this.sharedFrom = 0;
  }
}
