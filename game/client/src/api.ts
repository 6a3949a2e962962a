/**
 * The server's HTTP API, as the lobby uses it. Errors carry a message fit to
 * show the player (the server's own `{error}` text when it gave one).
 */

export interface RoomInfo {
  code: string;
  players: number;
  connected: number;
  max: number;
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

export async function listRooms(): Promise<RoomInfo[]> {
  return (await call<{ rooms: RoomInfo[] }>('/api/rooms')).rooms;
}

export async function createRoom(): Promise<string> {
  return (await call<{ code: string }>('/api/rooms', { method: 'POST' })).code;
}

/** The WebSocket URL of a room, on the page's own host. */
export function socketUrl(loc: { protocol: string; host: string }, code: string, token: string): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws?room=${encodeURIComponent(code)}&token=${encodeURIComponent(token)}`;
}
