/**
 * Per-tick snapshot fan-out of a room (Quake 3 model, over an ordered transport).
 *
 * Each tick's world is quantized once into a Frame and kept in a history ring
 * shared by all clients. A snapshot holds nothing private to one client (the
 * seat fields carry each player's last input seq and anchor in its own entity),
 * so the common case is ONE message per room per tick, published on the room's
 * Channel: the delta from the previous tick, with that tick's events. It fits
 * every client that was sent the previous tick on its current socket and has not
 * asked for a full snapshot: over WebSocket (TCP) messages arrive in order, so
 * such a client holds the previous frame when the next one arrives.
 *
 * Everyone else gets a private copy, from the same DeltaCache: the delta from
 * the last frame it acknowledged (filtered by the view it was sent with) to the
 * current frame in its current view, with the events since the last snapshot it
 * received plus its notices. That covers clients that were skipped, (re)joined,
 * asked for a full snapshot after a desync, have notices waiting, or see a view
 * of their own (interest management on). A client moves between the two each
 * tick by joining or leaving the channel.
 *
 * Spectators (watchers.ts) ride along: one holding the previous tick shares the
 * publish (counted in it); one that does not gets a private delta from the last
 * tick sent to it, memoized per baseline within the tick, so they cost a copy
 * each only in the tick they (re)join.
 *
 * A client whose socket is backed up is skipped this tick: its baseline stays
 * its last ack, so the next delta still applies and nothing is lost. Events are
 * delivered from the tick after the last snapshot it received.
 */
import type { World } from '../game/sim/index.ts';
import { ARENA_SCHEMA, type SeatState, worldToFrame } from '../game/sim/netschema.ts';
import { findPlayer } from '../game/sim/index.ts';
import { encodeEvents, frameSnapshot } from '../netcode/snapframe.ts';
import { FrameBuilder, FramePool } from '../netcode/frame.ts';
import { SnapshotHistory } from '../netcode/history.ts';
import { ALL_VIEW, INTEREST_OFF, type InterestConfig } from '../netcode/interest.ts';
import { CLOSE_TOO_SLOW, EV_ROSTER, type RosterEntry, type WireEvent } from '../netcode/protocol.ts';
import { DeltaCache } from '../netcode/snapcache.ts';
import type { Config } from './config.ts';
import type { Member } from './member.ts';
import {
  FRAME_BYTES, SEAT_ACK, SEAT_EVENT_TICK, SEAT_HELD, SEAT_JOINED, SEAT_LAST_SENT, SEAT_NOTICES, SEAT_SOCKET, type SeatContext,
  seatBackedUp, seatSentShared, SOCKET_WELCOMED,
} from './seats.ts';
import type { Channel, Link } from './transport.ts';
import type { Viewer } from './watchers.ts';

/** What `slowReader` keeps of a client: its run of skipped ticks and its link. */
interface SkipRun {
  skipFrom: number;
  lastSkipped: number;
  readonly link: Link | null;
}

export class SnapshotFanout {
  private readonly history: SnapshotHistory;
  private readonly cache: DeltaCache;
  private readonly builder = new FrameBuilder(ARENA_SCHEMA);
  /**
   * The history's frames, recycled: the one a push evicts is read by nobody after it
   * (baselines are looked up by tick, and a tick that left the ring gets a full
   * snapshot), so the pool takes its buffer for a later frame. Slab frames lived the
   * ring's 64 ticks, so they and their slabs all reached V8's old generation.
   */
  private readonly frames = new FramePool(4);
  private readonly eventTicks: Int32Array;
  private readonly eventLog: WireEvent[][];
  private tick = -1;
  /** Encoded event lists of the current tick, by the tick a client last got events for. */
  private readonly eventBytes = new Map<number, Uint8Array>();
  private readonly interest: boolean; // false: everyone sees everything, no per-client view to compute
  /** Snapshots not sent because the client's socket was backed up. */
  skipped = 0;
  /** Clients closed as too slow (`slowReader`), and the run of skipped ticks that makes one. */
  slowClosed = 0;
  private readonly slowTicks: number;
  /** Snapshots sent, and their bytes. */
  sent = 0;
  bytes = 0;

  /** Snapshots delivered through the room's channel (also counted in `sent`). */
  shared = 0;
  /** Bytes published on the room's channel so far (for `seatBackedUp`). */
  private published = 0;
  /** Tick of the previous `send`: the shared snapshot's baseline. */
  private prevTick = 0;
  /** Spectators' private snapshots of the current tick, by baseline and events' start. */
  private readonly viewerBytes = new Map<number, Uint8Array>();

  constructor(private readonly cfg: Config, private readonly channel: Channel | null = null) {
    this.history = new SnapshotHistory(cfg.historyTicks);
    this.slowTicks = Math.max(1, Math.round(cfg.slowReaderS * cfg.tickRate));
    const interest: InterestConfig = cfg.viewRadius > 0
      ? { cellSize: cfg.viewCell, radius: Math.ceil(cfg.viewRadius / cfg.viewCell) }
      : INTEREST_OFF;
    this.cache = new DeltaCache({ schema: ARENA_SCHEMA, history: this.history, interest });
    this.interest = cfg.viewRadius > 0;
    this.eventTicks = new Int32Array(cfg.historyTicks).fill(-1);
    this.eventLog = new Array(cfg.historyTicks).fill(null).map(() => []);
  }

  /** Quantizes this tick's world (with each player's seat state) into the history and logs its events. */
  record(world: World, events: WireEvent[], seats?: (playerId: number) => SeatState | undefined): void {
    const evicted = this.history.occupant(world.tick);
    this.history.push(worldToFrame(this.builder, world, world.tick, seats, this.frames.alloc));
    if (evicted !== undefined && evicted !== this.history.get(evicted.tick)) this.frames.release(evicted);
    this.cache.beginTick(world.tick);
    this.tick = world.tick;
    const i = world.tick % this.eventTicks.length;
    this.eventTicks[i] = world.tick;
    this.eventLog[i] = events;
    this.eventBytes.clear();
  }

  has(tick: number): boolean {
    return this.history.get(tick) !== undefined;
  }

  /**
   * Sends each welcomed member of `seats` its snapshot of the recorded tick: the shared
   * one where it fits. The loop reads the members' seat rows; a member object is
   * loaded only to change its channel, skip it or send it a private copy.
   */
  /**
   * A skipped member: past SLOW_READER_S of snapshots skipped in a row, or SLOW_READER_BYTES
   * held in its socket, it is closed (CLOSE_TOO_SLOW) and its seat waits for the resume
   * grace. What a socket holds is bounded either way (uWS's maxBackpressure, ws.ts).
   */
  private slowReader(m: SkipRun, tick: number, held: number): void {
    if (m.lastSkipped !== tick - 1) m.skipFrom = tick;
    m.lastSkipped = tick;
    const skipped = tick - m.skipFrom + 1;
    if (held <= this.cfg.slowReaderBytes && skipped < this.slowTicks) return;
    this.slowClosed++;
    const why = held > this.cfg.slowReaderBytes
      ? `connection too slow: ${Math.round(held / 1024)} KiB waiting to be read`
      : `connection too slow: ${skipped} snapshots skipped in a row (${this.cfg.slowReaderS} s)`;
    m.link?.close(CLOSE_TOO_SLOW, why);
  }

  send(seats: SeatContext, world: World, roster: () => RosterEntry[], viewers: ReadonlySet<Viewer> = NO_VIEWERS): void {
    const tick = this.tick;
    const prev = this.prevTick;
    this.prevTick = tick;
    // The shared copy needs a baseline still in the history and one view for all.
    const shareable = this.channel !== null && !this.interest && prev > 0 && this.has(prev);
    const d = seats.table.data;
    const width = seats.table.width;
    const seated = seats.seated;
    const limit = this.cfg.backpressureBytes;
    let nShared = 0;
    for (let i = 0, r = 0; i < seated.length; i++, r += width) {
      if (d[r + SEAT_SOCKET] !== SOCKET_WELCOMED) continue; // a free row reads as no socket
      if (seatBackedUp(d, r, limit, this.published, seated[i] as Member)) {
        const m = seated[i] as Member;
        if (m.joined) leave(m);
        m.snapshotsSkipped++;
        this.skipped++;
        this.slowReader(m, tick, d[r + SEAT_HELD]);
        continue;
      }
      if (shareable && d[r + SEAT_LAST_SENT] === prev && d[r + SEAT_ACK] > 0 && d[r + SEAT_NOTICES] === 0) {
        if (d[r + SEAT_JOINED] === 0) {
          const m = seated[i] as Member;
          m.link?.join(true);
          m.joined = true;
        }
        seatSentShared(d, r, tick);
        d[r + SEAT_EVENT_TICK] = tick;
        nShared++;
        continue;
      }
      const m = seated[i] as Member;
      if (m.joined) leave(m);
      this.sendPrivate(m, world, roster);
    }
    if (viewers.size > 0) nShared += this.sendViewers(viewers, shareable, prev, roster);
    if (nShared > 0) {
      const snap = this.cache.get(prev, ALL_VIEW, ALL_VIEW);
      const bytes = frameSnapshot(tick, snap.baseTick, snap.checksum, snap.body, this.eventsFor(prev, roster));
      (this.channel as Channel).publish(bytes);
      this.published += bytes.byteLength + FRAME_BYTES;
      this.shared += nShared;
      this.sent += nShared;
      this.bytes += bytes.byteLength * nShared;
    }
  }

  /**
   * Each welcomed spectator its snapshot: the shared one when it holds `prev` (returns
   * how many), else a private delta from the last tick sent to it (full when that is gone).
   */
  private sendViewers(viewers: ReadonlySet<Viewer>, shareable: boolean, prev: number, roster: () => RosterEntry[]): number {
    const tick = this.tick;
    const limit = this.cfg.backpressureBytes;
    let n = 0;
    this.viewerBytes.clear();
    for (const v of viewers) {
      if (!v.welcomed) continue;
      if (v.backedUp(limit, this.published)) {
        if (v.joined) v.offChannel();
        this.skipped++;
        this.slowReader(v, tick, v.held);
        continue;
      }
      if (shareable && v.lastSent === prev && !v.wantsFull) {
        if (!v.joined) {
          v.link.join(true);
          v.joined = true;
        }
        v.lastSent = tick;
        v.eventTick = tick;
        n++;
        continue;
      }
      if (v.joined) v.offChannel();
      this.sendViewer(v, roster);
    }
    return n;
  }

  /** Spectators that have had no snapshot yet get the current one (the room does not step while no player is on). */
  catchUp(viewers: ReadonlySet<Viewer>, roster: () => RosterEntry[]): void {
    this.viewerBytes.clear();
    for (const v of viewers) if (v.welcomed && (v.lastSent === 0 || v.wantsFull) && v.lastSent !== this.tick) this.sendViewer(v, roster);
  }

  private sendViewer(v: Viewer, roster: () => RosterEntry[]): void {
    const tick = this.tick;
    const base = !v.wantsFull && v.lastSent > 0 && this.has(v.lastSent) ? v.lastSent : 0;
    const key = base * 2048 + Math.min(tick - v.eventTick, 2047); // events since eventTick: the log holds ≤ 1024 ticks
    let bytes = this.viewerBytes.get(key);
    if (bytes === undefined) {
      const snap = this.cache.get(base, ALL_VIEW, ALL_VIEW);
      bytes = frameSnapshot(tick, snap.baseTick, snap.checksum, snap.body, this.eventsFor(v.eventTick, roster));
      this.viewerBytes.set(key, bytes);
    }
    v.link.send(bytes);
    v.sentSince += bytes.byteLength;
    v.lastSent = tick;
    v.eventTick = tick;
    v.wantsFull = false;
    this.sent++;
    this.bytes += bytes.byteLength;
  }

  /** A snapshot for this member alone: against its ack, in its view, with its events and notices. */
  private sendPrivate(m: Member, world: World, roster: () => RosterEntry[]): void {
    const tick = this.tick;
    const me = this.interest ? findPlayer(world, m.playerId) : undefined;
    const view = me ? this.cache.views.viewKeyFor(me.x, me.y) : ALL_VIEW;
    const baseView = m.ackTick ? m.sentView(m.ackTick) : undefined;
    const snap = this.cache.get(baseView === undefined ? 0 : m.ackTick, baseView ?? ALL_VIEW, view);
    let events: Uint8Array;
    if (m.notices !== null) {
      const list = this.eventsSince(m.eventTick, tick, roster);
      list.push(...m.notices);
      m.notices = null;
      events = encodeEvents(list);
    } else {
      events = this.eventsFor(m.eventTick, roster);
    }
    const bytes = frameSnapshot(tick, snap.baseTick, snap.checksum, snap.body, events);
    m.send(bytes);
    this.sent++;
    this.bytes += bytes.byteLength;
    m.sentPrivate(tick, view);
    m.eventTick = tick;
  }

  /** Encoded events of ticks (from, tick], memoized per `from` within the tick. */
  private eventsFor(from: number, roster: () => RosterEntry[]): Uint8Array {
    let events = this.eventBytes.get(from);
    if (!events) {
      events = encodeEvents(this.eventsSince(from, this.tick, roster));
      this.eventBytes.set(from, events);
    }
    return events;
  }

  /** Events of ticks (from, to]; a roster first when some of them already left the log. */
  private eventsSince(from: number, to: number, roster: () => RosterEntry[]): WireEvent[] {
    const out: WireEvent[] = [];
    const cap = this.eventTicks.length;
    if (to - from > cap) {
      out.push([EV_ROSTER, roster()]);
      from = to - cap;
    }
    for (let t = from + 1; t <= to; t++) {
      const i = t % cap;
      if (this.eventTicks[i] === t) out.push(...this.eventLog[i]);
    }
    return out;
  }
}

const NO_VIEWERS: ReadonlySet<Viewer> = new Set();

/** Takes a member off the room's channel: it gets private copies until it rejoins. */
function leave(m: Member): void {
  m.link?.join(false);
  m.leaveChannel();
}
