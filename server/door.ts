/**
 * The way into a room, the same for both transports (ws.ts's WebSocket upgrade, sse.ts's
 * event stream): what a request must carry (within its address's limits, an allowed
 * Origin, a signed token, a room code), where the room lives (here, on another instance,
 * nowhere), whether the room takes it, and the join itself, as a player (a seat) or a
 * spectator (`spectate=1`: no seat, not counted against the room's player limit).
 * Everything before `enter` runs before any socket or stream exists, so a refusal is an
 * HTTP status with a reason and touches no room.
 */
import { CLOSE_ROOM_CLOSED, CLOSE_TRY_AGAIN, ROOM_CODE } from '../netcode/protocol.ts';
import type { Route } from './cluster/directory.ts';
import type { ClusterNode } from './cluster/node.ts';
import type { InstanceRecord } from './cluster/records.ts';
import type { Config } from './config.ts';
import { type IpLimits, refusalText } from './iplimits.ts';
import type { Member } from './member.ts';
import { originAllowed } from './origin.ts';
import type { Room } from './room.ts';
import type { RoomManager } from './rooms.ts';
import { type Session, verifyToken } from './tokens.ts';
import type { Link } from './transport.ts';
import type { Viewer } from './watchers.ts';

export interface DoorDeps {
  cfg: Config;
  manager: RoomManager;
  cluster: ClusterNode;
  limits: IpLimits;
  /** Monotonic ms (the rooms' clock). */
  now: () => number;
  /** Wall-clock seconds (token expiry). */
  wallS: () => number;
  /** Draining for a deploy: no room opens here any more. */
  draining: () => boolean;
  onReject: (status: number) => void;
}

/** An HTTP refusal: `status` as written ("409 Conflict"), the reason as the body. */
export interface Refusal {
  status: string;
  reason: string;
  retryAfterS: number;
}

/** A request that may come in: its session, room and address, and whether it only watches. */
export interface Entry {
  session: Session;
  code: string;
  peer: string;
  spectate: boolean;
}

/** Where an entry goes: a join's Route, or (a spectator's) no such room anywhere. */
export type Where =
  | Exclude<Route, { kind: 'elsewhere' }>
  | { kind: 'elsewhere'; owner: Pick<InstanceRecord, 'id' | 'ws'> }
  | { kind: 'absent'; reason: string };

/** Who joined: the room and the player's member (a seat) or the spectator's viewer. */
export interface Entered {
  room: Room;
  member: Member | null;
  viewer: Viewer | null;
}

export const refusal = (status: string, reason: string, retryAfterS = 0): Refusal => ({ status, reason, retryAfterS });
export const isRefusal = (v: Entry | Refusal): v is Refusal => 'status' in v;
const noRoom = (code: string): string => `no room ${code} to watch`;

/**
 * Checks a request in the order of what it costs: the address's upgrade rate and sockets
 * (a map lookup), the Origin, the token (an HMAC), the room code. `query` holds `room`,
 * `token` and maybe `spectate=1`.
 */
export function checkEntry(d: DoorDeps, peer: string, origin: string, host: string, query: URLSearchParams): Entry | Refusal {
  const over = d.limits.upgrade(peer, d.now());
  if (over) return refusal('429 Too Many Requests', refusalText(over), over.retryAfterS);
  if (!originAllowed(origin, host, d.cfg.allowedOrigins)) return refusal('403 Forbidden', `origin ${origin} is not allowed`);
  const check = verifyToken(d.cfg.secret, query.get('token') ?? undefined, d.wallS());
  if (!check.ok) return refusal('401 Unauthorized', check.reason);
  const code = (query.get('room') ?? '').toUpperCase();
  if (!ROOM_CODE.test(code)) return refusal('400 Bad Request', 'room must be 5 letters, e.g. ?room=ABCDE');
  return { session: check.session, code, peer, spectate: query.get('spectate') === '1' };
}

/** Counts a refusal in the metrics and hands it back. */
export function rejected(d: DoorDeps, r: Refusal): Refusal {
  d.onReject(Number.parseInt(r.status, 10));
  return r;
}

/**
 * Where the entry's room is. A player's join may claim the code (directory.ts `route`); a
 * spectator never opens a room: it watches the one held here, or is sent to its owner, or
 * is told there is none.
 */
export function routeOf(d: DoorDeps, e: Entry): Where | Promise<Where> {
  if (!e.spectate || d.manager.get(e.code)) return d.cluster.directory.route(e.code);
  const absent: Where = { kind: 'absent', reason: noRoom(e.code) };
  if (!d.cluster.redis) return absent;
  return d.cluster.directory.owner(e.code).then(
    (o): Where => (!o || o.instance === d.cfg.instanceId ? absent : { kind: 'elsewhere', owner: { id: o.instance, ws: o.ws } }),
    (err: Error): Where => ({ kind: 'unavailable', reason: err.message }),
  );
}

/**
 * Whether the room here takes the entry, checked before the socket or stream exists: a
 * seat for the session (a full room says no), a new room within the address's limit and
 * the server's, or (a spectator) a room to watch with room for one more.
 */
export function admission(d: DoorDeps, e: Entry): Refusal | null {
  const existing = d.manager.get(e.code);
  if (e.spectate) {
    if (!existing) return refusal('404 Not Found', noRoom(e.code));
    const max = d.cfg.maxSpectatorsPerRoom;
    return existing.watchers.count >= max ? refusal('409 Conflict', `this room has ${max} spectators, as many as it admits`) : null;
  }
  const ok = existing?.admits(e.session.sid) ?? { ok: true };
  if (!ok.ok) return refusal('409 Conflict', ok.reason);
  if (existing) return null;
  const opens = d.limits.room(e.peer, d.now());
  if (opens) return refusal('429 Too Many Requests', refusalText(opens), opens.retryAfterS);
  if (d.draining()) return refusal('503 Service Unavailable', 'this server is shutting down; try again in a moment');
  if (d.manager.rooms.size >= d.cfg.maxRooms) return refusal('503 Service Unavailable', 'this server holds as many rooms as it may; try again later');
  return null;
}

/**
 * What a known route answers before anything opens: nowhere to go (503), no room to watch
 * (404), or the room here saying no (`admission`); null when the entry goes on (here, or
 * on to another instance).
 */
export function whereRefusal(d: DoorDeps, e: Entry, where: Where): Refusal | null {
  if (where.kind === 'unavailable') return refusal('503 Service Unavailable', where.reason);
  if (where.kind === 'absent') return refusal('404 Not Found', where.reason);
  return where.kind === 'here' ? admission(d, e) : null;
}

/**
 * The entry's route came late (from Redis) and the connection is open already: the new
 * room's address limit, checked now. Null when it may go on; else the reason it closes with.
 */
export function lateOpen(d: DoorDeps, e: Entry): string | null {
  if (e.spectate || d.manager.get(e.code)) return null;
  const opens = d.limits.room(e.peer, d.now());
  if (!opens) return null;
  d.onReject(429);
  return refusalText(opens);
}

/**
 * Joins the room: a player takes its seat (the room is created here if new), a spectator
 * its place among the watchers. Null when refused; the link is closing then.
 */
export function enter(d: DoorDeps, e: Entry, link: Link): Entered | null {
  const now = d.now();
  if (e.spectate) {
    const room = d.manager.get(e.code);
    if (!room) {
      link.close(CLOSE_ROOM_CLOSED, noRoom(e.code));
      return null;
    }
    const viewer = room.watch(link, e.session.sid, now);
    return viewer ? { room, member: null, viewer } : null;
  }
  const room = d.draining() && !d.manager.get(e.code) ? null : d.manager.getOrCreate(e.code, now);
  if (!room) {
    d.cluster.released(e.code);
    link.close(CLOSE_TRY_AGAIN, 'too many rooms; try again later');
    return null;
  }
  const member = room.connect(e.session.sid, e.session.name, link, now);
  return member ? { room, member, viewer: null } : null;
}
