/**
 * The server's HTTP API, as the lobby uses it. Errors carry a message fit to
 * show the player (the server's own `{error}` text when it gave one). Answers
 * are read leniently: fields a server older than the cluster does not send get
 * the values a standalone server would mean.
 */
import { usableEndpoint } from './target.ts';

export interface RoomInfo {
  code: string;
  players: number;
  connected: number;
  max: number;
  /** The instance that holds the room ('' on a standalone server). */
  instance: string;
}

/** GET /api/rooms: the rooms of every live instance, and who is online across them. */
export interface LobbyInfo {
  rooms: RoomInfo[];
  online: number; // players connected, cluster-wide
  instances: number; // live instances (1 standalone)
  clustered: boolean;
}

/** A room code just drawn, and the WebSocket endpoint of the instance that will hold it (null: the page's /ws). */
export interface NewRoom {
  code: string;
  ws: string | null;
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError('Cannot reach the server. Check your connection and try again.', 0);
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through with the status
  }
  if (!res.ok) {
    const msg = body && typeof body === 'object' && 'error' in body ? String((body as { error: unknown }).error) : `HTTP ${res.status}`;
    throw new ApiError(msg, res.status);
  }
  return body as T;
}

/** A guest session: a signed token for `name` (the server may clean the name up). */
export function createSession(name: string): Promise<{ token: string; name: string }> {
  return call('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
}

export async function fetchLobby(): Promise<LobbyInfo> {
  return lobbyInfo(await call<unknown>('/api/rooms'));
}

export async function listRooms(): Promise<RoomInfo[]> {
  return (await fetchLobby()).rooms;
}

/** The body of GET /api/rooms, with defaults for what an older server leaves out. */
export function lobbyInfo(body: unknown): LobbyInfo {
  const b = record(body);
  const rooms: RoomInfo[] = [];
  for (const raw of Array.isArray(b.rooms) ? b.rooms : []) {
    const r = record(raw);
    if (typeof r.code !== 'string') continue; // not a room row
    const instance = typeof r.instance === 'string' ? r.instance : '';
    rooms.push({ code: r.code, players: count(r.players), connected: count(r.connected), max: count(r.max), instance });
  }
  return {
    rooms,
    online: typeof b.online === 'number' ? count(b.online) : rooms.reduce((n, r) => n + r.connected, 0),
    instances: typeof b.instances === 'number' ? Math.max(1, count(b.instances)) : 1,
    clustered: b.clustered === true,
  };
}

export async function createRoom(): Promise<NewRoom> {
  return newRoom(await call<unknown>('/api/rooms', { method: 'POST' }));
}

/**
 * GET /api/rooms/CODE: whether the code is held (a room open, or drawn by
 * POST /api/rooms and waiting for its first player), and where; null when
 * nobody holds it (404) or the server does not know the route.
 */
export async function findRoom(code: string): Promise<NewRoom | null> {
  let body: unknown;
  try {
    body = await call<unknown>(`/api/rooms/${encodeURIComponent(code)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
  // An older server answers unknown paths with the app's index.html (not JSON): no owner known.
  return record(body).code === code ? newRoom(body) : null;
}

/**
 * The body of POST /api/rooms (and of GET /api/rooms/CODE). A standalone server (instance '') gets no target:
 * its own page's /ws is the right place, whatever PUBLIC_URL it guessed.
 */
export function newRoom(body: unknown): NewRoom {
  const b = record(body);
  const code = typeof b.code === 'string' ? b.code : '';
  if (!code) throw new ApiError('The server did not return a room code.', 200);
  const ws = typeof b.ws === 'string' && typeof b.instance === 'string' && b.instance !== '' ? b.ws : null;
  return { code, ws };
}

/**
 * The WebSocket URL of a room: at `target` (an instance's endpoint, from a
 * redirect or a new room) when this page can use it, else at the page's own /ws.
 * `spectate`: watch without a seat (`&spectate=1`). The SSE transport maps this
 * very URL to its endpoints (netcode/sse.ts `sseEndpoints`), the flag included.
 */
export function socketUrl(
  loc: { protocol: string; host: string }, code: string, token: string, target: string | null = null, spectate = false,
): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const endpoint = (target && usableEndpoint(target, loc.protocol)) || `${scheme}//${loc.host}/ws`;
  return `${endpoint}?room=${encodeURIComponent(code)}&token=${encodeURIComponent(token)}${spectate ? '&spectate=1' : ''}`;
}

function record(v: unknown): Record<string, unknown> {
  return (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
}

/** A non-negative whole number from an answer, 0 when it is not one. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}
