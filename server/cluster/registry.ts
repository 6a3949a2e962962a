/**
 * This instance's entry in the cluster registry: its record under `tw:inst:<id>` (kept
 * alive by the heartbeat, and with it every claim of ours), registration at start and
 * again whenever the record is found gone (Redis restarted, or this process stalled past
 * the TTL), the check that no other live process uses our INSTANCE_ID, the sweeps (dead
 * instances pruned, stray claims of ours released) and leaving the cluster at stop.
 *
 * Timers are the caller's: `heartbeat()` is called by main.ts every CLUSTER_HEARTBEAT_S;
 * `after(ms, fn)` bounds the waits at start and stop.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { RoomManager } from '../rooms.ts';
import type { Directory } from './directory.ts';
import { type InstanceRecord, parseRecord } from './records.ts';
import type { RedisLink } from './redis.ts';
import { KEYS } from './scripts.ts';

export interface RegistryDeps {
  redis: RedisLink | null;
  cfg: Config;
  manager: RoomManager;
  log: Logger;
  directory: Directory;
  /** This instance's record, fresh. */
  self: () => InstanceRecord;
  /** Wall-clock ms (records carry it). */
  wallMs: () => number;
  after: (ms: number, fn: () => void) => void;
  /** Random per process (see InstanceRecord.boot). */
  boot: string;
  /** What happened, for /metrics (the cluster node's counters). */
  counters: { registrations: number; idConflicts: number; claimConflicts: number; pruned: number };
  failed: (op: string, err: unknown) => void;
}

/** Dead instances are pruned and stray claims released every this many heartbeats. */
const SWEEP_EVERY = 10;

export class Registry {
  registered = false;
  private beating = false;
  /** Another process was found writing our record at the last heartbeat (said once per episode). */
  private sharing = false;
  private beats = 0;
  /** Codes we hold a claim on without a room here, as of the last sweep (released if still so at the next). */
  private stray = new Set<string>();

  constructor(private readonly d: RegistryDeps) {}

  /** Read when used: main.ts fills INSTANCE_ID's default once it knows the port. */
  private get id(): string {
    return this.d.cfg.instanceId;
  }

  private get ttlMs(): number {
    return Math.round(this.d.cfg.clusterTtlS * 1000);
  }

  /** Writes our record now that we drain, so that no instance places a room here from now on. */
  async publishDraining(): Promise<void> {
    const redis = this.d.redis;
    if (!redis?.ready) throw new Error('not connected');
    if (!this.registered) throw new Error('not registered');
    await redis.cmd.set(KEYS.inst + this.id, JSON.stringify(this.d.self()), 'PX', this.ttlMs);
  }

  /**
   * Connects to Redis and registers, waiting up to `waitMs` for it. Throws when another
   * live instance holds this INSTANCE_ID; starts anyway (and registers later) when Redis
   * cannot be reached yet.
   */
  async start(waitMs: number): Promise<void> {
    const redis = this.d.redis;
    if (!redis) return;
    let first: ((ok: boolean) => void) | null = null;
    const firstDone = new Promise<boolean>((resolve) => { first = resolve; });
    redis.onReady = () => {
      void this.register().then((ok) => { first?.(ok); first = null; });
    };
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
    if (!this.registered && this.d.counters.idConflicts > 0) {
      throw new Error(`INSTANCE_ID ${this.id} is in use by another live instance: give each instance its own INSTANCE_ID`);
    }
  }

  /** (Re)writes our record, joins the instance set, and re-claims every room held here. */
  private async register(): Promise<boolean> {
    const redis = this.d.redis;
    if (!redis) return false;
    const c = this.d.counters;
    try {
      const other = await redis.cmd.twRegister(KEYS.inst + this.id, KEYS.instances, JSON.stringify(this.d.self()), this.ttlMs, this.d.boot, this.id);
      if (other !== null) {
        c.idConflicts++;
        this.registered = false;
        const o = parseRecord(other);
        this.d.log('error', `registry: INSTANCE_ID ${this.id} is held by another live process${o ? ` at ${o.url}` : ''}; not registering`);
        return false;
      }
      const codes = [...this.d.manager.rooms.keys()];
      const owners = await Promise.all(codes.map((code) => redis.cmd.twResolve(KEYS.rooms, code, this.id, KEYS.inst, KEYS.claims)));
      owners.forEach((o, i) => {
        if (!o || o[0] === this.id) return;
        c.claimConflicts++;
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
      c.registrations++;
      this.d.log('info', `registry: registered as ${this.id} (${this.d.cfg.publicUrl}) with ${codes.length} room(s)`);
      return true;
    } catch (err) {
      this.d.failed('register', err);
      return false;
    }
  }

  /** One heartbeat: refreshes our record (and with it every claim of ours); sweeps now and then. */
  heartbeat(): void {
    const redis = this.d.redis;
    if (!redis?.ready || this.beating) return;
    this.beating = true;
    const beat = this.registered
      ? redis.cmd.set(KEYS.inst + this.id, JSON.stringify(this.d.self()), 'PX', this.ttlMs, 'GET').then((old) => {
        if (old === null) {
          this.d.log('warn', 'registry: our record was gone (Redis restarted, or this process stalled past the TTL); re-registering');
          return this.register();
        }
        const theirs = parseRecord(old)?.boot !== this.d.boot;
        if (theirs && !this.sharing) {
          this.d.counters.idConflicts++;
          this.d.log('error', `registry: another process wrote the record of ${this.id}: two instances share one INSTANCE_ID`);
        }
        this.sharing = theirs;
        return true;
      })
      : this.register();
    beat.catch((err) => this.d.failed('heartbeat', err)).finally(() => { this.beating = false; });
    if (++this.beats % SWEEP_EVERY === 0) void this.sweep();
  }

  /** Prunes instances whose record expired; releases claims of ours that no room here backs (two sweeps in a row). */
  private async sweep(): Promise<void> {
    const redis = this.d.redis;
    if (!redis?.ready || !this.registered) return;
    try {
      const { dead } = await this.d.directory.fetch();
      for (const id of dead) {
        const freed = await redis.cmd.twPrune(KEYS.rooms, KEYS.instances, id, KEYS.inst, KEYS.claims);
        this.d.counters.pruned++;
        this.d.log('info', `registry: instance ${id} stopped heartbeating; ${freed} room(s) freed in the directory`);
      }
      const mine = await redis.cmd.smembers(KEYS.claims + this.id);
      const stray = new Set<string>();
      for (const code of mine) {
        if (this.d.manager.get(code)) continue;
        if (this.stray.has(code)) await this.d.directory.release(code);
        else stray.add(code);
      }
      this.stray = stray;
    } catch (err) {
      this.d.failed('sweep', err);
    }
  }

  /** Removes our record and claims at once (not after the TTL); bounded to a second. */
  async leave(): Promise<void> {
    const redis = this.d.redis;
    if (!redis) return;
    if (redis.ready && this.registered) {
      const done = redis.cmd.twDeregister(KEYS.rooms, KEYS.instances, KEYS.inst + this.id, KEYS.claims + this.id, this.id, this.d.boot)
        .then((n) => this.d.log('info', `registry: left the cluster, ${n} room claim(s) released`), (err) => this.d.failed('deregister', err));
      await Promise.race([done, new Promise((r) => this.d.after(1000, () => r(undefined)))]);
    }
    this.registered = false;
  }
}
