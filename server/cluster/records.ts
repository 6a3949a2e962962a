/**
 * What an instance tells the cluster about itself, and the pure rules read from it.
 * Each instance writes one record to Redis on every heartbeat (registry.ts); every
 * instance reads them all to list the lobby, route a join and place a new room.
 * A record comes from another process: it is validated like any message from outside.
 */

/** One room as the lobby lists it: [code, players (seats held), connected, max]. */
export type RoomEntry = [code: string, players: number, connected: number, max: number];

export interface InstanceRecord {
  id: string;
  /** Public http(s) base players reach this instance at (PUBLIC_URL), no trailing slash. */
  url: string;
  /** Its public WebSocket endpoint (url with ws(s):// and /ws). */
  ws: string;
  /** Random per process: tells a restarted instance (same id) from the one before it. */
  boot: string;
  startedAt: number; // unix ms
  at: number; // unix ms of the heartbeat that wrote this
  rooms: RoomEntry[];
  players: number;
  connected: number;
  maxRooms: number;
  cpuS: number; // process CPU seconds since start
  rssMb: number;
  /** Draining for a deploy: it hands its rooms away and takes no new ones. */
  draining: boolean;
}

/** The WebSocket endpoint of a public http(s) base: http → ws, https → wss, + /ws. */
export function wsEndpoint(publicUrl: string): string {
  return `${publicUrl.replace(/^http/, 'ws')}/ws`;
}

const isNum = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max;
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isRoom = (r: unknown): r is RoomEntry => Array.isArray(r) && r.length === 4 && /^[A-Z]{5}$/.test(String(r[0]))
  && isNum(r[1], 1e4) && isNum(r[2], 1e4) && isNum(r[3], 1e4);

/** A record read from Redis, or null when it is not one (another program's key, a bad write). */
export function parseRecord(json: string | null): InstanceRecord | null {
  if (!json) return null;
  let v: Partial<InstanceRecord>;
  try {
    v = JSON.parse(json) as Partial<InstanceRecord>;
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || !isStr(v.id, 32) || !isStr(v.url, 512) || !isStr(v.ws, 512) || !isStr(v.boot, 64)
    || !isNum(v.startedAt) || !isNum(v.at) || !Array.isArray(v.rooms) || v.rooms.length > 100_000 || !v.rooms.every(isRoom)
    || !isNum(v.players) || !isNum(v.connected) || !isNum(v.maxRooms) || !isNum(v.cpuS) || !isNum(v.rssMb)
    || (v.draining !== undefined && typeof v.draining !== 'boolean')) {
    return null;
  }
  return { ...v, draining: v.draining === true } as InstanceRecord;
}

/**
 * Load in "players": connected players, plus ROOM_COST for each room (a room ticks its
 * drones and its fan-out whoever is in it). A room placed here but not yet in the
 * record counts as a room with half a room's seats taken: it is about to fill.
 */
export const ROOM_COST = 4;

export function loadOf(r: Pick<InstanceRecord, 'connected' | 'rooms'>, placed: number, seatsPerRoom: number): number {
  return r.connected + ROOM_COST * (r.rooms.length + placed) + (placed * seatsPerRoom) / 2;
}

/** FNV-1a of a string: the rendezvous hash that breaks ties between equally loaded instances. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Where a new room `code` should live: the least-loaded instance that has room for it and
 * is not draining (a drained room goes the same way).
 * Ties (a burst of new rooms against records a heartbeat old) are broken by a hash of
 * code and instance, so a burst spreads over the cluster instead of piling on one.
 * `placed[id]` counts the rooms this instance sent there since that record was read.
 */
export function pickInstance(
  records: readonly InstanceRecord[], code: string, placed: ReadonlyMap<string, number>, seatsPerRoom: number,
): InstanceRecord | null {
  let best: InstanceRecord | null = null;
  let bestLoad = Infinity;
  let bestHash = 0;
  for (const r of records) {
    const p = placed.get(r.id) ?? 0;
    if (r.draining || r.rooms.length + p >= r.maxRooms) continue;
    const load = loadOf(r, p, seatsPerRoom);
    const hash = fnv(`${code}/${r.id}`);
    if (load < bestLoad || (load === bestLoad && hash > bestHash)) {
      best = r;
      bestLoad = load;
      bestHash = hash;
    }
  }
  return best;
}

/** What the HTTP API answers for an instance (GET /api/instances). */
export function publicInstance(r: InstanceRecord, self: boolean) {
  return {
    id: r.id, url: r.url, ws: r.ws, self, rooms: r.rooms.length, players: r.players, connected: r.connected,
    max_rooms: r.maxRooms, cpu_s: r.cpuS, rss_mb: r.rssMb, started_at: r.startedAt, heartbeat_at: r.at, draining: r.draining,
  };
}

export type PublicInstance = ReturnType<typeof publicInstance>;
