/**
 * Draining an instance for a deploy (SIGTERM / SIGINT, or POST /api/admin/drain): it
 * stops taking rooms (its record says `draining`, so the directory places new rooms
 * elsewhere, and /healthz answers 503 "draining"), then hands every room with players
 * to another live instance (cluster/handover.ts) and tells each player there (MOVE).
 * Joins that reach it meanwhile wait for their room's hand-over and are redirected to
 * the new owner.
 *
 * What cannot be handed over — no Redis, no other live instance, nobody took it before
 * DRAIN_DEADLINE_S — is saved to the state file (statefile.ts) and its players are told
 * the server restarts (CLOSE_RESTARTING): this instance takes the rooms back when it
 * starts again with the same file. A standalone server drains that way only.
 */
import { CLOSE_GOING_AWAY, CLOSE_REDIRECT, CLOSE_RESTARTING, CLOSE_TRY_AGAIN } from '../netcode/protocol.ts';
import { SampleRing } from '../netcode/samples.ts';
import type { Route } from './cluster/directory.ts';
import type { ClusterNode } from './cluster/node.ts';
import { type InstanceRecord, pickInstance } from './cluster/records.ts';
import { type Config, stateFileOf } from './config.ts';
import type { Logger } from './log.ts';
import type { Room } from './room.ts';
import type { RoomState } from './roomstate.ts';
import type { RoomManager } from './rooms.ts';
import { saveStateFile } from './statefile.ts';

export interface DrainDeps {
  cfg: Config;
  manager: RoomManager;
  cluster: ClusterNode;
  log: Logger;
  /** Monotonic ms. */
  now: () => number;
  wallMs: () => number;
  after: (ms: number, fn: () => void) => void;
}

export interface DrainReport {
  /** Rooms with players when the drain began. */
  rooms: number;
  handed: number;
  /** Saved to the state file (not handed over). */
  saved: number;
  /** Neither handed over nor saved: their players lost them. */
  lost: number;
  /** Sockets told where their room went (MOVE). */
  moved: number;
  ms: number;
}

/** One attempt to hand a room to one instance waits this long at most for its answer. */
const ATTEMPT_MS = 2000;
/**
 * Rooms handed over at once. A room is frozen only when its turn comes, so each room's
 * players wait for their own hand-over, not for the whole instance's (50 rooms at once
 * froze every room for the 0.4 s the batch took).
 */
const AT_ONCE = 8;
/**
 * After the last MOVE, the process lingers this long before it may exit. uWS reports a
 * socket closed as soon as we end it, but its bytes (the MOVE, the close frame) may still
 * be on their way, and a process that exits while players' inputs keep arriving resets
 * their connections, which can discard those bytes: the player then sees a lost
 * connection and reconnects with backoff instead of moving at once.
 */
const LINGER_MS = 1500;
/** A moved socket the client has not closed by itself this long after its MOVE is closed by us (CLOSE_REDIRECT). */
const MOVE_CLOSE_MS = 300;
/** Instances tried for one room before it is saved instead. */
const MAX_ATTEMPTS = 3;

const RESTARTING = 'server restarting; your seat is kept';

export class Drainer {
  draining = false;
  /** What drains did, for /metrics. */
  readonly stats = {
    handed: 0, saved: 0, lost: 0, moved: 0,
    /** Failed attempts by reason (a room may fail with one instance and go to the next). */
    failures: new Map<string, number>(),
    /** Time from a room's freeze to its players being told where it went, ms. */
    handoverMs: new SampleRing(1024),
  };
  private run: Promise<DrainReport> | null = null;
  /** Where a join for a room being drained goes, once its hand-over settled. */
  private readonly moving = new Map<string, Promise<Route>>();
  /** Rooms sent to each instance in this drain (spreads them like new rooms). */
  private readonly placed = new Map<string, number>();
  /** When players were last told to go (MOVE, or closed for a restart); null: nobody was. */
  private lastCloseAt: number | null = null;
  /** States of the rooms frozen but not handed over (saved as frozen: nothing stepped since). */
  private readonly unsent = new Map<Room, RoomState>();

  constructor(private readonly d: DrainDeps) {}

  /** Starts the drain (once; later calls get the same outcome). */
  start(): Promise<DrainReport> {
    this.run ??= this.drain();
    return this.run;
  }

  /** The route of a join for `code` while its room is handed over, or undefined. */
  routeOf(code: string): Promise<Route> | undefined {
    return this.moving.get(code);
  }

  private async drain(): Promise<DrainReport> {
    const { manager, cfg, log } = this.d;
    const t0 = this.d.now();
    const deadline = t0 + cfg.drainDeadlineS * 1000;
    this.draining = true;
    const rooms: Room[] = [];
    for (const room of [...manager.rooms.values()]) {
      if (room.playerCount > 0) rooms.push(room);
      else this.close(room, CLOSE_TRY_AGAIN, 'this server is shutting down; try again');
    }
    const settle = new Map<Room, (r: Route) => void>();
    for (const room of rooms) this.moving.set(room.code, new Promise<Route>((resolve) => settle.set(room, resolve)));
    const players = rooms.reduce((n, r) => n + r.playerCount, 0);
    log('info', `drain: started with ${rooms.length} room(s) and ${players} player(s); deadline ${cfg.drainDeadlineS} s (DRAIN_DEADLINE_S)`);

    const { targets, why } = await this.targets();
    if (targets.length === 0 && rooms.length > 0) log(this.d.cluster.clustered ? 'warn' : 'info', `drain: ${why}; saving the rooms instead`);
    const handed: boolean[] = [];
    let next = 0;
    const worker = async () => {
      while (next < rooms.length) {
        const i = next++;
        handed[i] = await this.handOne(rooms[i], targets, deadline, settle.get(rooms[i])!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, rooms.length) }, worker));

    const left = rooms.filter((_, i) => !handed[i]);
    const saved = left.length > 0 && this.save(left);
    for (const room of left) {
      settle.get(room)!({ kind: 'unavailable', reason: `room ${room.code} restarts with its instance; try again in a moment` });
      if (saved) this.close(room, CLOSE_RESTARTING, RESTARTING);
      else this.close(room, CLOSE_GOING_AWAY, 'server shutting down');
    }
    const report: DrainReport = {
      rooms: rooms.length, handed: handed.filter(Boolean).length, saved: saved ? left.length : 0, lost: saved ? 0 : left.length,
      moved: this.stats.moved, ms: Math.round(this.d.now() - t0),
    };
    this.stats.saved += report.saved;
    this.stats.lost += report.lost;
    log('info', `drain: done in ${report.ms} ms: ${report.handed} room(s) handed over (${report.moved} player(s) moved), `
      + `${report.saved} saved to the state file${report.lost ? `, ${report.lost} LOST` : ''}`);
    await this.linger();
    return report;
  }

  /** Waits until LINGER_MS have passed since the last MOVE or restart close (see LINGER_MS). */
  private async linger(): Promise<void> {
    if (this.lastCloseAt === null) return;
    const until = this.lastCloseAt + LINGER_MS;
    while (this.d.now() < until) await new Promise<void>((r) => this.d.after(until - this.d.now(), r));
  }

  /** The instances that may take rooms, or why there are none. Our record says `draining` first. */
  private async targets(): Promise<{ targets: InstanceRecord[]; why: string }> {
    const { cluster } = this.d;
    if (!cluster.clustered) return { targets: [], why: 'standalone (no REDIS_URL)' };
    try {
      await cluster.publishDraining();
      const records = await cluster.directory.records(0);
      const targets = records.filter((r) => r.id !== cluster.id && !r.draining);
      return { targets, why: 'no other live instance that is not draining' };
    } catch (err) {
      return { targets: [], why: `Redis is unreachable (${(err as Error).message})` };
    }
  }

  /** Hands one room over: true once its players were told where it went. */
  private async handOne(room: Room, targets: InstanceRecord[], deadline: number, settle: (r: Route) => void): Promise<boolean> {
    if (targets.length === 0) return false;
    const { cluster, cfg, log, manager } = this.d;
    const t0 = this.d.now();
    const state = room.freeze();
    const tried = new Set<string>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const left = deadline - this.d.now();
      const to = pickInstance(targets.filter((t) => !tried.has(t.id)), room.code, this.placed, cfg.maxPlayersPerRoom);
      if (!to || left <= 0) break;
      tried.add(to.id);
      this.placed.set(to.id, (this.placed.get(to.id) ?? 0) + 1);
      const r = await cluster.handover.send(state, to, Math.min(ATTEMPT_MS, left));
      if (!r.ok) {
        this.placed.set(to.id, (this.placed.get(to.id) ?? 1) - 1);
        const kind = r.reason.replace(/\b[A-Z]{5}\b/g, 'ROOM').replace(/instance \S+/g, 'instance X');
        this.stats.failures.set(kind, (this.stats.failures.get(kind) ?? 0) + 1);
        log('warn', `drain: instance ${to.id} did not take room ${room.code}: ${r.reason}`);
        continue;
      }
      const forward = () => {
        const late = room.takeChat();
        if (late.length) cluster.handover.sendLate(room.code, to.id, late);
      };
      forward();
      const reason = `room ${room.code} moved to instance ${to.id}`;
      const links = room.moveAll(to.ws, to.id, reason);
      const moved = links.length;
      manager.remove(room);
      if (moved > 0) {
        this.lastCloseAt = this.d.now() + MOVE_CLOSE_MS;
        this.d.after(MOVE_CLOSE_MS, () => {
          forward(); // chat sent before its client read the MOVE
          for (const l of links) l.close(CLOSE_REDIRECT, reason);
        });
      }
      settle({ kind: 'elsewhere', owner: to });
      const ms = this.d.now() - t0;
      this.stats.handed++;
      this.stats.moved += moved;
      this.stats.handoverMs.add(ms);
      log('info', `drain: room ${room.code} (${state.seats.length} seat(s), ${moved} connected) handed to instance ${to.id} in ${ms.toFixed(1)} ms (${r.bytes} B)`);
      return true;
    }
    // Saved with what it has now, chat said meanwhile included.
    state.chat.push(...room.takeChat());
    this.unsent.set(room, state);
    return false;
  }

  /** Writes `rooms` to the state file; false (and a log line) when it could not or it is off. */
  private save(rooms: Room[]): boolean {
    const { cfg, log } = this.d;
    const file = stateFileOf(cfg);
    if (file === '') {
      log('warn', `drain: STATE_FILE is off: ${rooms.length} room(s) are lost`);
      return false;
    }
    const states = rooms.map((r) => this.unsent.get(r) ?? r.freeze());
    try {
      const bytes = saveStateFile(file, { savedAt: this.d.wallMs(), tickRate: cfg.tickRate, rooms: states });
      const seats = states.reduce((n, s) => n + s.seats.length, 0);
      log('info', `saved ${states.length} room(s) with ${seats} seat(s) to ${file} (${bytes} B)`);
      return true;
    } catch (err) {
      log('error', `could not save the rooms to ${file}: ${(err as Error).message}; players will find fresh rooms`);
      return false;
    }
  }

  private close(room: Room, code: number, reason: string): void {
    if (room.connectedCount > 0) this.lastCloseAt = this.d.now();
    room.closeAll(code, reason);
    this.d.manager.remove(room);
  }
}
