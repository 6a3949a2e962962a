/**
 * The room directory as one instance sees it: which instance owns a code (asked of
 * Redis, atomically claimed when nobody does), where a new room should go (the
 * least-loaded live instance), and every instance's rooms for the lobby.
 *
 * The instance list is read from Redis at most once a second (LIST: one round trip)
 * and only when a join, the lobby or a placement needs it; our own entry is always
 * the fresh local one. Between two readings, rooms we placed on an instance count
 * towards its load (`placed`), so a burst of new rooms spreads out.
 */
import type { Config } from '../config.ts';
import type { RoomManager } from '../rooms.ts';
import { type InstanceRecord, parseRecord, pickInstance } from './records.ts';
import type { RedisLink } from './redis.ts';
import { KEYS } from './scripts.ts';

/** The directory cannot answer now (Redis unreachable): the caller answers 503 and the client retries. */
export class Unavailable extends Error {}

export type Route =
  | { kind: 'here' }
  | { kind: 'elsewhere'; owner: InstanceRecord }
  | { kind: 'unavailable'; reason: string };

export interface RoomOwner {
  code: string;
  instance: string;
  url: string;
  ws: string;
  /** The room exists (false: claimed, e.g. just created by POST /api/rooms, and opened by its first join). */
  open: boolean;
  players: number;
  max: number;
}

export interface LobbyRoom {
  code: string;
  players: number;
  connected: number;
  max: number;
  instance: string;
}

export interface DirectoryDeps {
  redis: RedisLink | null;
  self: () => InstanceRecord;
  manager: RoomManager;
  cfg: Config;
  wallMs: () => number;
  pick: (n: number) => number;
  failed: (op: string, err: unknown) => void;
  claimed: () => void;
  /** Our record is in Redis: only then may we claim (a claim is valid while its owner's record lives). */
  registered: () => boolean;
  /** This instance drains: it claims nothing for itself. */
  draining: () => boolean;
  /** The route of a join for a room this instance is handing over (drain.ts). */
  moving: (code: string) => Promise<Route> | undefined;
}

const HERE: Route = { kind: 'here' };
const DOWN = 'the cluster directory (Redis) is unreachable; try again in a moment';
const UNREGISTERED = 'this instance is not registered in the cluster yet; try again in a moment';
const NOWHERE = 'this instance is draining and no other can take the room yet; try again in a moment';

/** A Redis call whose failure the caller answers with 503 (Unavailable), not 500. */
async function ask<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw err instanceof Unavailable ? err : new Unavailable(`the cluster directory (Redis) did not answer: ${(err as Error).message}`);
  }
}
/** A listing younger than this is reused. */
const LIST_MAX_AGE_MS = 1000;

export class Directory {
  private cache: { at: number; records: InstanceRecord[] } | null = null;
  private inflight: Promise<{ records: InstanceRecord[]; dead: string[] }> | null = null;
  /** Rooms this instance placed on each other instance since the listing was read. */
  private readonly placed = new Map<string, number>();

  constructor(private readonly d: DirectoryDeps) {}

  /** Live instances in the last listing, this one included (1 standalone). */
  get liveCount(): number {
    if (!this.d.redis) return 1;
    const others = this.cache?.records.filter((r) => r.id !== this.d.cfg.instanceId).length ?? 0;
    return others + 1;
  }

  /** Reads every instance's record from Redis (one LIST), refreshing the cache; `dead` = registered ids whose record expired. */
  fetch(): Promise<{ records: InstanceRecord[]; dead: string[] }> {
    const redis = this.d.redis;
    if (!redis) return Promise.resolve({ records: [], dead: [] });
    this.inflight ??= redis.cmd.twList(KEYS.instances, KEYS.inst).then((flat) => {
      const records: InstanceRecord[] = [];
      const dead: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const r = parseRecord(flat[i + 1]);
        if (r && r.id === flat[i]) records.push(r);
        else if (flat[i + 1] === '') dead.push(flat[i]);
      }
      this.cache = { at: this.d.wallMs(), records };
      this.placed.clear();
      return { records, dead };
    }).finally(() => { this.inflight = null; });
    return this.inflight;
  }

  /** Every live instance's record (ours fresh), from a listing at most `maxAgeMs` old. */
  async records(maxAgeMs = LIST_MAX_AGE_MS): Promise<InstanceRecord[]> {
    const self = this.d.self();
    if (!this.d.redis) return [self];
    const c = this.cache;
    const records = c && this.d.wallMs() - c.at < maxAgeMs ? c.records : (await this.fetch()).records;
    return [...records.filter((r) => r.id !== self.id), self];
  }

  /**
   * Where a join for `code` goes. Synchronous for a room held here or a standalone
   * server (the upgrade stays synchronous then); otherwise asks Redis, and claims the
   * code for the least-loaded instance when no live instance owns it.
   */
  route(code: string): Route | Promise<Route> {
    const moving = this.d.moving(code);
    if (moving) return moving;
    if (this.d.manager.get(code) || !this.d.redis) return HERE;
    if (!this.d.redis.ready) return { kind: 'unavailable', reason: DOWN };
    if (!this.d.registered()) return { kind: 'unavailable', reason: UNREGISTERED };
    return this.resolve(code).catch((err) => {
      this.d.failed('route', err);
      return { kind: 'unavailable' as const, reason: DOWN };
    });
  }

  private async resolve(code: string): Promise<Route> {
    const owner = await this.claim(code);
    if (owner === null) return { kind: 'unavailable', reason: NOWHERE };
    if (owner.instance === this.d.cfg.instanceId) return HERE;
    const rec = (await this.records()).find((r) => r.id === owner.instance) ?? (await this.records(0)).find((r) => r.id === owner.instance);
    return rec ? { kind: 'elsewhere', owner: rec } : { kind: 'unavailable', reason: `room ${code} lives on instance ${owner.instance}, which is not answering` };
  }

  /**
   * The live owner of `code`, claiming it for the least-loaded instance when there is none;
   * null when nobody could take it (every instance is full or draining).
   */
  private async claim(code: string): Promise<{ instance: string; claimed: boolean } | null> {
    const redis = this.d.redis as RedisLink;
    const records = await this.records();
    const picked = pickInstance(records, code, this.placed, this.d.cfg.maxPlayersPerRoom)?.id;
    if (picked === undefined && this.d.draining()) {
      const r = await redis.cmd.twResolve(KEYS.rooms, code, '', KEYS.inst, KEYS.claims);
      return r ? { instance: r[0], claimed: false } : null;
    }
    const candidate = picked ?? this.d.cfg.instanceId;
    const r = await redis.cmd.twResolve(KEYS.rooms, code, candidate, KEYS.inst, KEYS.claims);
    if (!r) throw new Error('RESOLVE answered nothing for a claim');
    const [instance, claimed] = r;
    if (claimed === 1) {
      this.d.claimed();
      if (instance !== this.d.cfg.instanceId) this.placed.set(instance, (this.placed.get(instance) ?? 0) + 1);
    }
    return { instance, claimed: claimed === 1 };
  }

  /** Who owns `code` (GET /api/rooms/CODE), or null when nobody live does. Throws Unavailable when Redis is down. */
  async owner(code: string): Promise<RoomOwner | null> {
    const self = this.d.self();
    if (this.d.manager.get(code) || !this.d.redis) return this.d.manager.get(code) ? ownerOf(self, code) : null;
    if (!this.d.redis.ready) throw new Unavailable(DOWN);
    const r = await ask(this.d.redis.cmd.twResolve(KEYS.rooms, code, '', KEYS.inst, KEYS.claims));
    if (!r) return null;
    const rec = (await ask(this.records())).find((x) => x.id === r[0]) ?? (await ask(this.records(0))).find((x) => x.id === r[0]);
    return rec ? ownerOf(rec, code, this.d.cfg.maxPlayersPerRoom) : null;
  }

  /** A fresh code, claimed for the least-loaded instance (POST /api/rooms); the room opens with its first join. */
  async newRoom(): Promise<RoomOwner> {
    const self = this.d.self();
    if (!this.d.redis && this.d.draining()) throw new Unavailable('this server is shutting down; try again in a moment');
    if (!this.d.redis) return ownerOf(self, this.d.manager.newCode(this.d.pick), this.d.cfg.maxPlayersPerRoom);
    if (!this.d.redis.ready) throw new Unavailable(DOWN);
    if (!this.d.registered()) throw new Unavailable(UNREGISTERED);
    for (let i = 0; i < 8; i++) {
      const code = this.d.manager.newCode(this.d.pick);
      const owner = await ask(this.claim(code));
      if (owner === null) throw new Unavailable(NOWHERE);
      if (!owner.claimed) continue; // taken elsewhere (one in millions): draw again
      const rec = (await ask(this.records())).find((r) => r.id === owner.instance) ?? self;
      return ownerOf(rec, code, this.d.cfg.maxPlayersPerRoom);
    }
    throw new Error('no free room code found in 8 draws');
  }

  /** The rooms of every live instance, and how many players are online (GET /api/rooms). */
  async lobby(): Promise<{ rooms: LobbyRoom[]; online: number; instances: number; degraded: boolean }> {
    let records: InstanceRecord[];
    let degraded = false;
    try {
      records = this.d.redis && !this.d.redis.ready ? [this.d.self()] : await this.records();
      degraded = this.d.redis !== null && !this.d.redis.ready;
    } catch (err) {
      this.d.failed('lobby', err);
      records = [this.d.self()];
      degraded = true;
    }
    const rooms: LobbyRoom[] = [];
    let online = 0;
    for (const r of records) {
      online += r.connected;
      for (const [code, players, connected, max] of r.rooms) rooms.push({ code, players, connected, max, instance: r.id });
    }
    rooms.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    return { rooms, online, instances: records.length, degraded };
  }

  /** Gives up our claim on `code` (its room closed here); quiet when Redis is down (the sweep catches it later). */
  async release(code: string): Promise<void> {
    const redis = this.d.redis;
    if (!redis?.ready) return;
    try {
      await redis.cmd.twRelease(KEYS.rooms, KEYS.claims + this.d.cfg.instanceId, code, this.d.cfg.instanceId);
    } catch (err) {
      this.d.failed('release', err);
    }
  }
}

function ownerOf(r: InstanceRecord, code: string, seats = 0): RoomOwner {
  const entry = r.rooms.find((e) => e[0] === code);
  return { code, instance: r.id, url: r.url, ws: r.ws, open: entry !== undefined, players: entry?.[1] ?? 0, max: entry?.[3] ?? seats };
}
