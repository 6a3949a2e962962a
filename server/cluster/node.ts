/**
 * This instance's place in the cluster: its registry record and heartbeat, the room
 * directory (who owns a code, claiming one, placing a new room on the least-loaded
 * instance), the cluster-wide lobby, and the bus (announcements, kicks, rooms closed).
 *
 * Without REDIS_URL the same object answers for this process alone, so the HTTP and
 * WebSocket doors have one code path. With it, Redis is consulted only for joins of a
 * code this instance does not hold, for the lobby (cached for a second) and for the
 * heartbeat: never by a tick, an input or a snapshot. When Redis is down, rooms held
 * here go on and their players can rejoin; only what needs the directory (a code held
 * nowhere here, the cluster lobby, the admin bus) answers "unavailable".
 *
 * Timers are the caller's: `heartbeat()` is called by main.ts every CLUSTER_HEARTBEAT_S,
 * and `after(ms, fn)` bounds the wait for the answers to a kick or a close.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { RoomManager } from '../rooms.ts';
import { BUS_VERSION, type BusAnswer, type BusMessage, type ClosedRoom, type Kicked, type KickTarget, parseBus } from './bus.ts';
import { type InstanceRecord, parseRecord, type RoomEntry, wsEndpoint } from './records.ts';
import { RedisLink } from './redis.ts';
import { KEYS } from './scripts.ts';
import { Directory, type RoomOwner, type Route, Unavailable } from './directory.ts';
import { Handover } from './handover.ts';

export { Unavailable };
export type { RoomOwner, Route };

export interface ClusterDeps {
  /** With instanceId and publicUrl resolved (main.ts). */
  cfg: Config;
  manager: RoomManager;
  log: Logger;
  /** Wall-clock ms: records carry it, so another machine can read them. */
  wallMs: () => number;
  after: (ms: number, fn: () => void) => void;
  /** Random per process (see InstanceRecord.boot). */
  boot: string;
  /** A random request id. */
  newId: () => string;
  proc: () => { cpuS: number; rssMb: number };
  pick: (n: number) => number;
  /** Monotonic ms (the rooms' clock). */
  now: () => number;
  /** This instance is draining (drain.ts). */
  draining: () => boolean;
  /** Where a join for a room being handed over goes, once it is (drain.ts). */
  moving: (code: string) => Promise<Route> | undefined;
}

export interface ClusterHealth {
  enabled: boolean;
  instance: string;
  public_url: string;
  redis: 'off' | 'connecting' | 'ready' | 'down';
  bus: boolean;
  registered: boolean;
  /** Live instances in the last listing (this one included). */
  instances: number;
}

/** Answers of the other instances to a kick or a close are awaited this long at most. */
const ANSWER_WAIT_MS = 1500;
/** Dead instances are pruned and stray claims released every this many heartbeats. */
const SWEEP_EVERY = 10;

export class ClusterNode {
  readonly clustered: boolean;
  readonly redis: RedisLink | null;
  readonly directory: Directory;
  /** Rooms to and from draining instances; null standalone. */
  readonly handover: Handover;
  registered = false;
  /** What happened, for /metrics. */
  readonly counters = {
    redirects: 0, claims: 0, claimConflicts: 0, registrations: 0, idConflicts: 0, redisErrors: 0, announcements: 0,
    kicks: 0, closes: 0, busRejected: 0, pruned: 0,
  };
  private beating = false;
  /** Another process was found writing our record at the last heartbeat (said once per episode). */
  private sharing = false;
  private beats = 0;
  /** Codes we hold a claim on without a room here, as of the last sweep (released if still so at the next). */
  private stray = new Set<string>();
  /** Requests of ours on the bus (kick, close) waiting for the instances' answers, by `req`. */
  private readonly asks = new Map<string, (answer: BusAnswer) => void>();
  private readonly startedAt: number;

  constructor(private readonly d: ClusterDeps) {
    this.clustered = d.cfg.redisUrl !== '';
    this.startedAt = d.wallMs();
    this.redis = this.clustered ? new RedisLink(d.cfg.redisUrl, d.log, d.wallMs) : null;
    this.directory = new Directory({
      redis: this.redis, self: () => this.record(), manager: d.manager, cfg: d.cfg, wallMs: d.wallMs, pick: d.pick,
      failed: (op, err) => this.failed(op, err),
      claimed: () => { this.counters.claims++; },
      registered: () => this.registered,
      draining: d.draining,
      moving: d.moving,
    });
    this.handover = new Handover({
      redis: this.redis as RedisLink, cfg: d.cfg, manager: d.manager, log: d.log, now: d.now, wallMs: d.wallMs, after: d.after,
      newId: d.newId, draining: d.draining, failed: (op, err) => this.failed(op, err),
    });
  }

  /** INSTANCE_ID and PUBLIC_URL are read when used: main.ts fills their defaults once it knows the port. */
  get id(): string {
    return this.d.cfg.instanceId;
  }

  get url(): string {
    return this.d.cfg.publicUrl;
  }

  get ws(): string {
    return wsEndpoint(this.d.cfg.publicUrl);
  }

  /** This instance's record, fresh from the room manager. */
  record(): InstanceRecord {
    const m = this.d.manager;
    const rooms: RoomEntry[] = m.list().map((r) => [r.code, r.players, r.connected, r.max]);
    const { cpuS, rssMb } = this.d.proc();
    return {
      id: this.id, url: this.url, ws: this.ws, boot: this.d.boot, startedAt: this.startedAt, at: this.d.wallMs(), rooms,
      players: rooms.reduce((n, r) => n + r[1], 0), connected: m.clients, maxRooms: this.d.cfg.maxRooms, cpuS, rssMb,
      draining: this.d.draining(),
    };
  }

  /** Writes our record now that we drain, so that no instance places a room here from now on. */
  async publishDraining(): Promise<void> {
    const redis = this.redis;
    if (!redis?.ready) throw new Error('not connected');
    if (!this.registered) throw new Error('not registered');
    await redis.cmd.set(KEYS.inst + this.id, JSON.stringify(this.record()), 'PX', Math.round(this.d.cfg.clusterTtlS * 1000));
  }

  /**
   * Connects to Redis and registers, waiting up to `waitMs` for it. Throws when another
   * live instance holds this INSTANCE_ID; starts anyway (and registers later) when Redis
   * cannot be reached yet.
   */
  async start(waitMs = 3000): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    let first: ((ok: boolean) => void) | null = null;
    const firstDone = new Promise<boolean>((resolve) => { first = resolve; });
    redis.onReady = () => {
      void this.register().then((ok) => { first?.(ok); first = null; });
    };
    redis.onMessage = (raw) => this.onBus(raw);
    redis.start();
    const deadline = this.d.wallMs() + Math.max(waitMs, this.d.cfg.clusterTtlS * 1000 + 1000);
    const timeout = new Promise<'timeout'>((resolve) => this.d.after(waitMs, () => resolve('timeout')));
    const outcome = await Promise.race([firstDone, timeout]);
    if (outcome === 'timeout') {
      this.d.log('warn', `redis: not reachable within ${waitMs / 1000} s; serving and registering once it is`);
      return;
    }
    // A record of a process that died a moment ago (same id) expires within the TTL: wait it out.
    while (!this.registered && this.d.wallMs() < deadline) {
      await new Promise((r) => this.d.after(500, () => r(undefined)));
      if (redis.ready) await this.register();
    }
    if (!this.registered && this.counters.idConflicts > 0) {
      throw new Error(`INSTANCE_ID ${this.id} is in use by another live instance: give each instance its own INSTANCE_ID`);
    }
  }

  /** (Re)writes our record, joins the instance set, and re-claims every room held here. */
  private async register(): Promise<boolean> {
    const redis = this.redis;
    if (!redis) return false;
    const ttlMs = Math.round(this.d.cfg.clusterTtlS * 1000);
    try {
      const other = await redis.cmd.twRegister(KEYS.inst + this.id, KEYS.instances, JSON.stringify(this.record()), ttlMs, this.d.boot, this.id);
      if (other !== null) {
        this.counters.idConflicts++;
        this.registered = false;
        const o = parseRecord(other);
        this.d.log('error', `registry: INSTANCE_ID ${this.id} is held by another live process${o ? ` at ${o.url}` : ''}; not registering`);
        return false;
      }
      const codes = [...this.d.manager.rooms.keys()];
      const owners = await Promise.all(codes.map((c) => redis.cmd.twResolve(KEYS.rooms, c, this.id, KEYS.inst, KEYS.claims)));
      owners.forEach((o, i) => {
        if (!o || o[0] === this.id) return;
        this.counters.claimConflicts++;
        const room = this.d.manager.get(codes[i]);
        if (room && room.connectedCount === 0) {
          // Restored from the state file, but the cluster moved on: its players went to the other one.
          this.d.manager.remove(room);
          this.d.log('warn', `directory: room ${codes[i]} (restored here, nobody back yet) is owned by instance ${o[0]} now; dropped here`);
        } else {
          this.d.log('warn', `directory: room ${codes[i]} runs here but instance ${o[0]} claimed it meanwhile; both keep their players`);
        }
      });
      this.registered = true;
      this.counters.registrations++;
      this.d.log('info', `registry: registered as ${this.id} (${this.url}) with ${codes.length} room(s)`);
      return true;
    } catch (err) {
      this.failed('register', err);
      return false;
    }
  }

  /** One heartbeat: refreshes our record (and with it every claim of ours); sweeps now and then. */
  heartbeat(): void {
    const redis = this.redis;
    if (!redis?.ready || this.beating) return;
    this.beating = true;
    const ttlMs = Math.round(this.d.cfg.clusterTtlS * 1000);
    const beat = this.registered
      ? redis.cmd.set(KEYS.inst + this.id, JSON.stringify(this.record()), 'PX', ttlMs, 'GET').then((old) => {
        if (old === null) {
          this.d.log('warn', 'registry: our record was gone (Redis restarted, or this process stalled past the TTL); re-registering');
          return this.register();
        }
        const theirs = parseRecord(old)?.boot !== this.d.boot;
        if (theirs && !this.sharing) {
          this.counters.idConflicts++;
          this.d.log('error', `registry: another process wrote the record of ${this.id}: two instances share one INSTANCE_ID`);
        }
        this.sharing = theirs;
        return true;
      })
      : this.register();
    beat.catch((err) => this.failed('heartbeat', err)).finally(() => { this.beating = false; });
    if (++this.beats % SWEEP_EVERY === 0) void this.sweep();
  }

  /** Prunes instances whose record expired; releases claims of ours that no room here backs (two sweeps in a row). */
  private async sweep(): Promise<void> {
    const redis = this.redis;
    if (!redis?.ready || !this.registered) return;
    try {
      const { dead } = await this.directory.fetch();
      for (const id of dead) {
        const freed = await redis.cmd.twPrune(KEYS.rooms, KEYS.instances, id, KEYS.inst, KEYS.claims);
        this.counters.pruned++;
        this.d.log('info', `registry: instance ${id} stopped heartbeating; ${freed} room(s) freed in the directory`);
      }
      const mine = await redis.cmd.smembers(KEYS.claims + this.id);
      const stray = new Set<string>();
      for (const code of mine) {
        if (this.d.manager.get(code)) continue;
        if (this.stray.has(code)) await this.directory.release(code);
        else stray.add(code);
      }
      this.stray = stray;
    } catch (err) {
      this.failed('sweep', err);
    }
  }

  /** A room closed here: its code is free again. */
  released(code: string): void {
    void this.directory.release(code);
  }

  /** Tells every player of every instance. Resolves to the number of instances reached. */
  async announce(text: string): Promise<number> {
    if (!this.redis) {
      this.announceHere(text);
      return 1;
    }
    if (!this.redis.ready) throw new Unavailable('Redis is unreachable: the announcement cannot reach the other instances');
    return this.redis.publish(JSON.stringify({ v: BUS_VERSION, type: 'announce', from: this.id, text } satisfies BusMessage)).catch((err: Error) => {
      throw new Unavailable(`Redis did not take the announcement: ${err.message}`);
    });
  }

  private announceHere(text: string): void {
    for (const room of this.d.manager.rooms.values()) room.announce(text);
    this.counters.announcements++;
  }

  /**
   * Publishes a request (`what`, for messages) to every instance and gathers their answers:
   * resolves once every live instance answered, or after ANSWER_WAIT_MS with those that did.
   */
  private async ask(what: string, request: (req: string) => BusMessage): Promise<BusAnswer[]> {
    const redis = this.redis as RedisLink;
    if (!redis.ready) throw new Unavailable(`Redis is unreachable: the ${what} cannot reach the other instances`);
    // How many answers to wait for: the live instances now, or as last listed when Redis is slow to list them.
    const expected = await this.directory.records(0).then((r) => r.length, () => this.directory.liveCount);
    const req = this.d.newId();
    return new Promise<BusAnswer[]>((resolve) => {
      const answers: BusAnswer[] = [];
      const done = () => { if (this.asks.delete(req)) resolve(answers); };
      this.asks.set(req, (a) => {
        answers.push(a);
        if (answers.length >= expected) done();
      });
      this.d.after(ANSWER_WAIT_MS, done);
      redis.publish(JSON.stringify(request(req))).catch((err) => { this.failed(what, err); done(); });
    });
  }

  /** Kicks whoever matches on every instance; resolves with who was kicked once every live instance answered (or after ANSWER_WAIT_MS). */
  async kick(target: KickTarget, reason: string): Promise<Kicked[]> {
    if (!this.redis) return this.kickHere(target, reason);
    const answers = await this.ask('kick', (req) => ({ v: BUS_VERSION, type: 'kick', from: this.id, req, target, reason }));
    return answers.flatMap((a) => (a.type === 'kicked' ? a.kicked : []));
  }

  /** Closes room `code` wherever it runs (CLOSE_ROOM_CLOSED to its players, the room removed); resolves with where it was. */
  async close(code: string, reason: string): Promise<ClosedRoom[]> {
    if (!this.redis) return this.closeHere(code, reason);
    const answers = await this.ask('close', (req) => ({ v: BUS_VERSION, type: 'close', from: this.id, req, room: code, reason }));
    return answers.flatMap((a) => (a.type === 'closed' && a.held ? [{ instance: a.from, room: a.room, players: a.players }] : []));
  }

  private closeHere(code: string, reason: string): ClosedRoom[] {
    const room = this.d.manager.get(code);
    if (!room) return [];
    const players = room.close(reason);
    this.d.manager.remove(room);
    this.counters.closes++;
    this.d.log('info', `admin: closed room ${code} (${players} player(s) connected): ${reason}`);
    return [{ instance: this.id, room: code, players }];
  }

  private kickHere(target: KickTarget, reason: string): Kicked[] {
    const out: Kicked[] = [];
    const match = 'sid' in target ? (sid: string) => sid === target.sid : (_sid: string, id: number) => id === target.id;
    for (const room of this.d.manager.rooms.values()) {
      if ('room' in target && room.code !== target.room) continue;
      for (const k of room.kick(match, reason)) out.push({ instance: this.id, room: room.code, id: k.id, name: k.name });
    }
    this.counters.kicks += out.length;
    if (out.length) this.d.log('info', `admin: kicked ${out.map((k) => `${k.name} (${k.room}#${k.id})`).join(', ')}: ${reason}`);
    return out;
  }

  private onBus(raw: string): void {
    const m = parseBus(raw);
    if (!m) {
      this.counters.busRejected++;
      return;
    }
    if (this.handover.onBus(m)) return;
    switch (m.type) {
      case 'announce':
        this.announceHere(m.text);
        return;
      case 'kick': {
        const kicked = this.kickHere(m.target, m.reason);
        const answer: BusMessage = { v: BUS_VERSION, type: 'kicked', from: this.id, req: m.req, to: m.from, kicked };
        this.redis?.publish(JSON.stringify(answer)).catch((err) => this.failed('kick answer', err));
        return;
      }
      case 'close': {
        const [closed] = this.closeHere(m.room, m.reason);
        const answer: BusMessage = {
          v: BUS_VERSION, type: 'closed', from: this.id, req: m.req, to: m.from, room: m.room, held: !!closed, players: closed?.players ?? 0,
        };
        this.redis?.publish(JSON.stringify(answer)).catch((err) => this.failed('close answer', err));
        return;
      }
      case 'kicked':
      case 'closed':
        if (m.to === this.id) this.asks.get(m.req)?.(m);
        return;
      default:
        return;
    }
  }

  private failed(op: string, err: unknown): void {
    this.counters.redisErrors++;
    // While Redis is down every call fails the same way: the connection's own log line says so once.
    if (this.redis?.ready) this.d.log('warn', `redis: ${op} failed: ${(err as Error)?.message ?? err}`);
  }

  health(): ClusterHealth {
    return {
      enabled: this.clustered, instance: this.id, public_url: this.url, redis: this.redis?.state ?? 'off', bus: this.redis?.busReady ?? false,
      registered: this.registered, instances: this.directory.liveCount,
    };
  }

  /** Leaves the cluster cleanly (record and claims removed at once, not after the TTL); bounded. */
  async stop(): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    if (redis.ready && this.registered) {
      const done = redis.cmd.twDeregister(KEYS.rooms, KEYS.instances, KEYS.inst + this.id, KEYS.claims + this.id, this.id, this.d.boot)
        .then((n) => this.d.log('info', `registry: left the cluster, ${n} room claim(s) released`), (err) => this.failed('deregister', err));
      await Promise.race([done, new Promise((r) => this.d.after(1000, () => r(undefined)))]);
    }
    this.registered = false;
    await redis.stop();
  }
}
