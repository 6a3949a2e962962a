/**
 * This instance's place in the cluster, as the rest of the server sees it: one object
 * that holds its Redis link and puts together its parts: the registry entry and
 * heartbeat (registry.ts), the room directory and lobby (directory.ts), rooms handed
 * to and from draining instances (handover.ts) and an operator's announcements, kicks
 * and room closes (adminbus.ts). It writes this instance's record, routes each bus
 * message to the part it is for, and counts what happens for /metrics.
 *
 * Without REDIS_URL the same object answers for this process alone, so the HTTP and
 * WebSocket doors have one code path. With it, Redis is consulted only for joins of a
 * code this instance does not hold, for the lobby (cached for a second) and for the
 * heartbeat: never by a tick, an input or a snapshot. When Redis is down, rooms held
 * here go on and their players can rejoin; only what needs the directory (a code held
 * nowhere here, the cluster lobby, the admin bus) answers "unavailable".
 *
 * Timers are the caller's: `heartbeat()` is called by main.ts every CLUSTER_HEARTBEAT_S,
 * and `after(ms, fn)` bounds the waits (registration, leaving, the answers to a kick or a close).
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { RoomManager } from '../rooms.ts';
import { AdminBus } from './adminbus.ts';
import { type ClosedRoom, type Kicked, type KickTarget, parseBus } from './bus.ts';
import { Directory, type Route } from './directory.ts';
import { Handover } from './handover.ts';
import { type InstanceRecord, type RoomEntry, wsEndpoint } from './records.ts';
import { RedisLink } from './redis.ts';
import { Registry } from './registry.ts';

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

export class ClusterNode {
  readonly clustered: boolean;
  readonly redis: RedisLink | null;
  readonly directory: Directory;
  /** Rooms to and from draining instances; null standalone. */
  readonly handover: Handover;
  /** What happened, for /metrics (the registry and the admin bus count into it too). */
  readonly counters = {
    redirects: 0, claims: 0, claimConflicts: 0, registrations: 0, idConflicts: 0, redisErrors: 0, announcements: 0,
    kicks: 0, closes: 0, busRejected: 0, pruned: 0,
  };
  private readonly registry: Registry;
  private readonly admin: AdminBus;
  private readonly startedAt: number;

  constructor(private readonly d: ClusterDeps) {
    this.clustered = d.cfg.redisUrl !== '';
    this.startedAt = d.wallMs();
    this.redis = this.clustered ? new RedisLink(d.cfg.redisUrl, d.log, d.wallMs) : null;
    const failed = (op: string, err: unknown) => this.failed(op, err);
    this.directory = new Directory({
      redis: this.redis, self: () => this.record(), manager: d.manager, cfg: d.cfg, wallMs: d.wallMs, pick: d.pick,
      failed,
      claimed: () => { this.counters.claims++; },
      registered: () => this.registered,
      draining: d.draining,
      moving: d.moving,
    });
    this.handover = new Handover({
      redis: this.redis as RedisLink, cfg: d.cfg, manager: d.manager, log: d.log, now: d.now, wallMs: d.wallMs, after: d.after,
      newId: d.newId, draining: d.draining, failed,
    });
    this.registry = new Registry({
      redis: this.redis, cfg: d.cfg, manager: d.manager, log: d.log, directory: this.directory, self: () => this.record(),
      wallMs: d.wallMs, after: d.after, boot: d.boot, counters: this.counters, failed,
    });
    this.admin = new AdminBus({
      redis: this.redis, manager: d.manager, log: d.log, directory: this.directory, id: () => this.id, after: d.after,
      newId: d.newId, counters: this.counters, failed,
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

  /** Our record is in Redis (the directory lets us claim only then). */
  get registered(): boolean {
    return this.registry.registered;
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
  publishDraining(): Promise<void> {
    return this.registry.publishDraining();
  }

  /**
   * Connects to Redis, listens to the bus and registers, waiting up to `waitMs` for it.
   * Throws when another live instance holds this INSTANCE_ID; starts anyway (and
   * registers later) when Redis cannot be reached yet.
   */
  async start(waitMs = 3000): Promise<void> {
    if (this.redis) this.redis.onMessage = (raw) => this.onBus(raw);
    await this.registry.start(waitMs);
  }

  /** One heartbeat: refreshes our record (and with it every claim of ours); sweeps now and then. */
  heartbeat(): void {
    this.registry.heartbeat();
  }

  /** A room closed here: its code is free again. */
  released(code: string): void {
    void this.directory.release(code);
  }

  /** Tells every player of every instance. Resolves to the number of instances reached. */
  announce(text: string): Promise<number> {
    return this.admin.announce(text);
  }

  /** Kicks whoever matches on every instance; resolves with who was kicked (see AdminBus.kick). */
  kick(target: KickTarget, reason: string): Promise<Kicked[]> {
    return this.admin.kick(target, reason);
  }

  /** Closes room `code` wherever it runs; resolves with where it was (see AdminBus.close). */
  close(code: string, reason: string): Promise<ClosedRoom[]> {
    return this.admin.close(code, reason);
  }

  /** Every bus message arrives here: checked, then handed to the hand-overs or the admin bus. */
  private onBus(raw: string): void {
    const m = parseBus(raw);
    if (!m) {
      this.counters.busRejected++;
      return;
    }
    if (!this.handover.onBus(m)) this.admin.onBus(m);
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
    await this.registry.leave();
    await this.redis?.stop();
  }
}
