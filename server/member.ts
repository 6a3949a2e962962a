import type { Config } from './config.ts';
import { InputQueue } from './inputqueue.ts';
import { TokenBucket } from './ratelimit.ts';
import {
  FRAME_BYTES, SEAT_ACK, SEAT_EVENT_TICK, SEAT_HELD, SEAT_JOINED, SEAT_LAST_SENT, SEAT_NOTICES, SEAT_QUEUE, SEAT_SENT_SINCE,
  SEAT_SHARED_FROM, SEAT_SOCKET, SEAT_TAT, SEAT_VIEW, SENT_ALL_VIEW, SENT_ASK_RING, SOCKET_NONE, SOCKET_OPEN, SOCKET_WELCOMED,
  seatBackedUp, type SeatContext, seatSent, seatSentShared,
} from './seats.ts';
import type { Link } from './transport.ts';
import { ALL_VIEW } from '../netcode/interest.ts';
import type { WireEvent } from '../netcode/protocol.ts';
import { SentViews } from '../netcode/snapcache.ts';

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
  /** The tick the current run of skipped snapshots began, and the last skipped one (slow readers: fanout.ts). */
  skipFrom = 0;
  lastSkipped = 0;
  /** The seat is gone for good (`release`): its row may be another member's now. */
  released = false;
  /** Kicked by an operator: no resume grace, the seat goes as soon as the socket has closed. */
  kicked = false;

  /** `link` null: a seat restored from a saved room, waiting for its player to come back. */
  constructor(readonly sid: string, readonly name: string, link: Link | null, now: number, cfg: Config, seats: SeatContext) {
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
    this.d[this.row + SEAT_HELD] = 0; // a new socket holds nothing yet
    this.d[this.row + SEAT_SENT_SINCE] = 0;
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
    this.d[this.row + SEAT_SENT_SINCE] += bytes.byteLength + FRAME_BYTES;
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
    return this.d[this.row + SEAT_SHARED_FROM];
  }

  private set sharedFrom(tick: number) {
    this.d[this.row + SEAT_SHARED_FROM] = tick;
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
