/**
 * The numbers every message and every tick touch for each seat of a room, in one
 * Float64Array with a fixed-width row per seat (layout: `SEAT_*` below): socket
 * state, message limit, ack and sends, the backpressure bound, and the input
 * queue; and the functions of a row that the hot paths call instead of a member's
 * methods.
 *
 * Why one table: between two messages of one client, the server handles hundreds
 * of others and the kernel's network stack runs, so that client's state is cold
 * when its next message comes, and every object on the way costs a cache miss
 * (`perf annotate` of the message path puts its time on exactly those loads). A
 * typed array of its own costs three: the array object, its ArrayBuffer (the
 * detach check) and the data. In a table shared by the room, the first two are
 * warm (every seat uses them), so a message reads just the lines of its own row.
 */
import type { Config } from './config.ts';
import { type AppliedLog, InputRule, queueNumbers } from './inputs.ts';
import { RateRule } from './ratelimit.ts';

export class SeatTable {
  readonly data: Float64Array;
  /** Doubles per row, rounded up to whole 64-byte lines. */
  readonly width: number;
  private readonly free: number[] = [];

  /** `seats` rows, each with `numbers` doubles. */
  constructor(readonly seats: number, numbers: number) {
    this.width = Math.ceil(numbers / 8) * 8;
    this.data = new Float64Array(seats * this.width);
    for (let i = seats - 1; i >= 0; i--) this.free.push(i * this.width); // row 0 first
  }

  /** A zeroed row; returns the offset of its first number. Throws when all rows are taken (a caller admitted too many seats). */
  take(): number {
    const row = this.free.pop();
    if (row === undefined) throw new Error(`seat table full (${this.seats} seats)`);
    this.data.fill(0, row, row + this.width);
    return row;
  }

  /** Gives a row back. */
  release(row: number): void {
    this.free.push(row);
  }

  get used(): number {
    return this.seats - this.free.length;
  }
}

/**
 * What the table keeps of the member seated in a row, for the paths that need more than
 * the row (member.ts's Member is one; the table does not import it, so the two are no cycle).
 */
export interface SeatHolder {
  readonly link: { buffered(): number } | null;
}

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
  seated: (SeatHolder | undefined)[];
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
export const SEAT_HELD = 4;
export const SEAT_SENT_SINCE = 5;
export const SEAT_PUBLISHED_AT = 6;
/** The socket's state: SOCKET_NONE, SOCKET_OPEN (no HELLO yet) or SOCKET_WELCOMED. */
export const SEAT_SOCKET = 7;
export const SOCKET_NONE = 0;
export const SOCKET_OPEN = 1;
export const SOCKET_WELCOMED = 2;
/** The message limit's state (`RateRule`). */
export const SEAT_TAT = 8;
/** The ack (delta baseline): see `Member.ackTick`. */
export const SEAT_ACK = 9;
export const SEAT_SHARED_FROM = 10;
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
export const UNCOUNTED_BYTES = 1024;
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
export function seatBackedUp(d: Float64Array, row: number, limit: number, published: number, m: SeatHolder): boolean {
  if (d[row + SEAT_HELD] + d[row + SEAT_SENT_SINCE] + (published - d[row + SEAT_PUBLISHED_AT]) <= limit - UNCOUNTED_BYTES) return false;
  const held = m.link === null ? 0 : m.link.buffered();
  d[row + SEAT_HELD] = held;
  d[row + SEAT_SENT_SINCE] = 0;
  d[row + SEAT_PUBLISHED_AT] = published;
  return held > limit;
}

/** `tick` went out to the member in row `row` through the room's channel: see `Member.sentShared`. */
export function seatSentShared(d: Float64Array, row: number, tick: number): void {
  if (d[row + SEAT_SHARED_FROM] === 0) d[row + SEAT_SHARED_FROM] = tick;
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
  const from = d[row + SEAT_SHARED_FROM];
  if (from > 0) {
    const last = d[row + SEAT_LAST_SENT];
    if (tick >= from && tick <= last) return tick > last - ringTicks ? SENT_ALL_VIEW : SENT_UNKNOWN;
    if (tick < from && ((((tick - from) % ringTicks) + ringTicks) % ringTicks) <= last - from) return SENT_UNKNOWN;
  }
  return SENT_ASK_RING;
}
