/**
 * All rooms of this process: created on demand by code, ticked together by one
 * fixed-step clock, removed after standing empty for a while. Time comes in as
 * arguments (`now`, ms) and a `clock` used only to measure tick durations.
 */
import { CLOSE_ROOM_CLOSED } from '../netcode/protocol.ts';
import type { Config } from './config.ts';
import { type ReplaySink, Room, type SnapshotCounts } from './room.ts';
import type { RoomState } from './roomstate.ts';
import { TickScheduler } from './scheduler.ts';
import type { Channel } from './transport.ts';
import { WireStats } from './wirestats.ts';
import { SampleRing } from '../netcode/samples.ts';

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // no I or O: codes get read aloud and typed

export interface ManagerOptions {
  config: Config;
  now: number;
  /** Measures tick durations (ms); the real clock in production, virtual in tests. */
  clock: () => number;
  /** Seed for a new room's world; a uint32. */
  seed: () => number;
  /** The broadcast channel of a new room (uWS: its topic); without it rooms send private copies only. */
  channel?: (code: string) => Channel;
  onTick?: (room: Room, ms: number) => void;
  /** A room's tick threw: the room has been closed and removed; the others go on. */
  onError?: (room: Room, err: unknown) => void;
  /** A room was removed (idle, or after an error): its code is free again (the cluster releases its claim). */
  onRemoved?: (code: string) => void;
  /** Where rooms' finished recordings go (REPLAY_DIR); none: nothing is recorded. */
  replays?: ReplaySink;
}

export class RoomManager {
  readonly rooms = new Map<string, Room>();
  /** Each room's tick clock, on its own phase. */
  private readonly clocks = new Map<Room, TickScheduler>();
  readonly period: number; // ms
  private created = 0;
  private droppedInRemovedRooms = 0;
  /** Duration of each room tick (simulate + encode + send), ms. */
  readonly tickMs = new SampleRing(4096);
  /** Input received → the snapshot acknowledging it sent, ms. */
  readonly inputAckMs = new SampleRing(8192);
  lastTickMs = 0;
  ticks = 0;
  /** What crossed the players' sockets (bytes, refusals, HELLOs), counted by ws.ts, main.ts and every room. */
  readonly wire = new WireStats();
  /** Room ticks that took longer than the tick period. */
  overruns = 0;
  private readonly cfg: Config;

  constructor(private readonly opts: ManagerOptions) {
    this.cfg = opts.config;
    this.period = 1000 / this.cfg.tickRate;
  }

  get(code: string): Room | undefined {
    return this.rooms.get(code);
  }

  /** The room of that code, created on demand; null when MAX_ROOMS are already open. */
  getOrCreate(code: string, now: number): Room | null {
    let room = this.rooms.get(code);
    if (!room) {
      if (this.rooms.size >= this.cfg.maxRooms) return null;
      room = new Room({
        code, config: this.cfg, now, seed: this.opts.seed(), channel: this.opts.channel?.(code), wire: this.wire, replays: this.opts.replays,
      });
      this.rooms.set(code, room);
      // Rooms take the TICK_PHASES slots of the period in turn: ticks are spread out, yet the
      // loop wakes at most that many times a period however many rooms there are.
      const phases = this.cfg.tickPhases;
      const phase = ((this.created++ % phases) / phases) * this.period;
      this.clocks.set(room, new TickScheduler({ rate: this.cfg.tickRate, maxCatchUp: this.cfg.maxCatchUpTicks, now: now + phase }));
    }
    return room;
  }

  /**
   * Rooms from a saved file, each into a fresh room under its code, their players away
   * for `awayMs` already; returns how many rooms and seats came back.
   */
  restore(rooms: readonly RoomState[], now: number, awayMs = 0): { rooms: number; players: number } {
    let players = 0;
    let n = 0;
    for (const s of rooms) {
      if (this.rooms.has(s.code)) continue; // only at start-up, before anyone joined: not expected
      const room = this.getOrCreate(s.code, now);
      if (!room) break; // MAX_ROOMS reached
      room.restore(s, now, awayMs);
      players += s.seats.length;
      n++;
    }
    return { rooms: n, players };
  }

  /** A fresh unused code. `pick(n)` returns an integer in [0, n). */
  newCode(pick: (n: number) => number): string {
    for (;;) {
      let code = '';
      for (let i = 0; i < 5; i++) code += LETTERS[pick(LETTERS.length)];
      if (!this.rooms.has(code)) return code;
    }
  }

  /**
   * Runs the room ticks that are due. Rooms tick in TICK_PHASES slots spread over the
   * period, not all at once: between two slots the event loop reads sockets and
   * answers pings, so a message never waits behind every room's tick, and a
   * tick's CPU load is spread out.
   */
  update(now: number): number {
    let ran = 0;
    // forEach, not `for (const [room, sched] of …)`: the entry arrays of that loop were 0.26 MB/s of garbage.
    this.clocks.forEach((sched, room) => {
      if (room.frozen) return; // on its way to another instance
      const n = sched.due(now);
      for (let k = 0; k < n; k++) {
        if (!this.stepRoom(room, now)) break;
        ran++;
      }
    });
    this.ticks += ran;
    this.reap(now);
    return ran;
  }

  /** ms until some room's next tick is due. */
  wait(now: number): number {
    let w = this.period;
    for (const sched of this.clocks.values()) w = Math.min(w, sched.wait(now));
    return w;
  }

  /** Ticks dropped by the backlog clamp (all rooms, including removed ones). */
  get dropped(): number {
    let n = this.droppedInRemovedRooms;
    for (const sched of this.clocks.values()) n += sched.dropped;
    return n;
  }

  private stepRoom(room: Room, now: number): boolean {
    const t0 = this.opts.clock();
    try {
      room.step(now);
    } catch (err) {
      // A bug in one room must not stop the others (an exception would end the process).
      this.remove(room);
      room.closeAll(1011, 'room error');
      this.opts.onError?.(room, err);
      return false;
    }
    const t1 = this.opts.clock();
    const ms = t1 - t0;
    const applied = room.applied;
    for (let i = 0; i < applied.count; i++) this.inputAckMs.add(t1 - applied.at[i]);
    this.tickMs.add(ms);
    this.lastTickMs = ms;
    if (ms > this.period) this.overruns++;
    this.opts.onTick?.(room, ms);
    return true;
  }

  private readonly removedCounts: SnapshotCounts = { sent: 0, shared: 0, skipped: 0, slowClosed: 0 };

  /** Removes rooms that have had nobody connected for ROOM_IDLE_S. */
  private reap(now: number): void {
    for (const room of this.rooms.values()) {
      // Seats still within their resume grace keep the room (and its world) alive.
      if (!room.frozen && room.emptySince !== null && room.memberCount === 0 && now - room.emptySince > this.cfg.roomIdleS * 1000) {
        room.watchers.closeAll(CLOSE_ROOM_CLOSED, 'the room closed: every player left');
        this.remove(room);
      }
    }
  }

  /** Takes a room out of this process (it was handed to another instance, or saved): no more ticks, its code free here. */
  remove(room: Room): void {
    if (this.rooms.get(room.code) !== room) return;
    room.endRecording('closed'); // (a room handed over ended its recording when it froze)
    addCounts(this.removedCounts, room.snapshotCounts);
    this.droppedInRemovedRooms += this.clocks.get(room)?.dropped ?? 0;
    this.clocks.delete(room);
    this.rooms.delete(room.code);
    this.opts.onRemoved?.(room.code);
  }

  list(): { code: string; players: number; connected: number; max: number }[] {
    return [...this.rooms.values()].map((r) => ({
      code: r.code, players: r.playerCount, connected: r.connectedCount, max: this.cfg.maxPlayersPerRoom,
    }));
  }

  get clients(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.connectedCount;
    return n;
  }

  /** Snapshot counts of all rooms since start. */
  get snapshotCounts(): SnapshotCounts {
    const n = { ...this.removedCounts };
    for (const r of this.rooms.values()) addCounts(n, r.snapshotCounts);
    return n;
  }
}

function addCounts(to: SnapshotCounts, c: SnapshotCounts): void {
  to.sent += c.sent;
  to.shared += c.shared;
  to.skipped += c.skipped;
  to.slowClosed += c.slowClosed;
}
