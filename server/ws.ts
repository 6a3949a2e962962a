/**
 * The WebSocket door: `/ws?room=CODE&token=TOKEN`. The upgrade handler checks
 * Origin and the signed token before any socket exists (403 / 401 with a reason
 * in the body), and refuses a full room (409). Open sockets become room Links.
 *
 * In a cluster, a join for a room this instance does not hold asks the directory:
 * when another instance owns the room, the socket opens only to be told where to go
 * (REDIRECT, then CLOSE_REDIRECT); when nobody does, the code is claimed for the
 * least-loaded instance, maybe this one. When that needs Redis, the socket is accepted
 * at once and routed once the answer comes (its first messages wait in a short queue):
 * uWS v20.30 closes some upgrades completed asynchronously a moment after `open`
 * (uNetworking/uWebSockets#1928, fixed upstream by #1929, not in this build), about one
 * join in forty under load. Such a socket is told "try again later" (1013) when Redis
 * cannot answer, instead of the 503 an upgrade with a known route gets.
 */
import uWS from 'uWebSockets.js';
import { encodeServer } from '../netcode/codec.ts';
import { CLOSE_BAD_MESSAGE, CLOSE_RATE_LIMIT, CLOSE_REDIRECT, CLOSE_TRY_AGAIN, LIMITS, S_REDIRECT } from '../netcode/protocol.ts';
import type { ClusterNode, Route } from './cluster/node.ts';
import type { InstanceRecord } from './cluster/records.ts';
import type { Config } from './config.ts';
import { type IpLimits, refusalText } from './iplimits.ts';
import type { Member } from './member.ts';
import { originAllowed } from './origin.ts';
import type { TrustedProxies } from './proxy.ts';
import type { Room } from './room.ts';
import { ROOM_CODE, type RoomManager } from './rooms.ts';
import type { Session } from './tokens.ts';
import { verifyToken } from './tokens.ts';
import type { Link } from './transport.ts';
import type { WireStats } from './wirestats.ts';

/**
 * uWS copies these fields onto the socket's own object (getUserData returns it).
 * Every field is set at the upgrade, so every socket has the same shape from the
 * start and its property store is allocated once, not grown when the room is
 * joined. The message handler reads it cold, among hundreds of sockets.
 */
interface SocketData {
  session: Session;
  code: string;
  room: Room | null;
  member: Member | null;
  /** The member's seat row (`Member.row`): what a message reads instead of the member. */
  row: number;
  link: UwsLink | null;
  /** The room lives on this other instance: `open` sends REDIRECT and closes. */
  redirect: InstanceRecord | null;
  /** The client's address (X-Forwarded-For only from a trusted proxy). */
  peer: string;
  /** The directory's answer is still coming: the socket is open but in no room yet. */
  pending: Promise<Route> | null;
  /** What the client sent while `pending` (copies: uWS frees the originals). */
  early: Uint8Array[] | null;
  /** The close handler ran: a late route must not touch the socket. */
  gone: boolean;
}

/** Messages a socket may send before its route is known (a HELLO, maybe a PING or two). */
const MAX_EARLY_MESSAGES = 16;

export interface WsDeps {
  cfg: Config;
  manager: RoomManager;
  cluster: ClusterNode;
  proxies: TrustedProxies;
  limits: IpLimits;
  /** Monotonic ms (the rooms' clock). */
  now: () => number;
  /** Wall-clock seconds (token expiry). */
  wallS: () => number;
  /** Draining for a deploy: no room opens here any more. */
  draining: () => boolean;
  onReject: (status: number) => void;
}

/** The uWS topic of a room's Channel. */
export const roomTopic = (code: string): string => `room/${code}`;

/** A uWS socket as a room Link. */
class UwsLink implements Link {
  closed = false; // set by the close handler: the socket must not be touched after

  constructor(
    private readonly ws: uWS.WebSocket<SocketData>, private readonly topic: string, readonly peer: string, private readonly wire: WireStats,
  ) {}

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.wire.bytesOut += bytes.byteLength;
    this.ws.cork(() => this.ws.send(bytes, true));
  }

  buffered(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.ws.end(code, reason);
  }

  join(on: boolean): void {
    if (this.closed) return;
    if (on) this.ws.subscribe(this.topic);
    else this.ws.unsubscribe(this.topic);
  }
}

/** A message that came before the socket's route: kept for the room, within bounds. */
function early(ws: uWS.WebSocket<SocketData>, queue: Uint8Array[], message: ArrayBuffer, isBinary: boolean, wire: WireStats): void {
  if (!isBinary) {
    wire.refuse(CLOSE_BAD_MESSAGE);
    ws.end(CLOSE_BAD_MESSAGE, 'binary messages only');
  } else if (queue.length >= MAX_EARLY_MESSAGES) {
    wire.refuse(CLOSE_RATE_LIMIT);
    ws.end(CLOSE_RATE_LIMIT, `more than ${MAX_EARLY_MESSAGES} messages before joining the room`);
  } else queue.push(new Uint8Array(message.slice(0)));
}

function reject(res: uWS.HttpResponse, status: string, reason: string, retryAfterS = 0): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'text/plain; charset=utf-8');
    if (retryAfterS > 0) res.writeHeader('retry-after', String(retryAfterS));
    res.end(reason);
  });
}

/** What the upgrade read from its request (which dies when the handler returns). */
interface Door {
  session: Session;
  code: string;
  peer: string;
  key: string;
  protocol: string;
  extensions: string;
  context: uWS.us_socket_context_t;
}

/** A socket's data at the upgrade; `pending` when its route is still coming from Redis. */
function socketData(door: Door, pending: Promise<Route> | null): SocketData {
  return { session: door.session, code: door.code, room: null, member: null, row: -1, link: null, redirect: null, peer: door.peer, pending, early: pending ? [] : null, gone: false };
}

/** Completes an upgrade whose route is known now: here (if the room admits us), elsewhere (REDIRECT at open), or 503. */
function admit(res: uWS.HttpResponse, d: WsDeps, door: Door, route: Route): void {
  const data = socketData(door, null);
  if (route.kind === 'unavailable') {
    d.onReject(503);
    reject(res, '503 Service Unavailable', route.reason);
    return;
  }
  if (route.kind === 'elsewhere') {
    data.redirect = route.owner;
  } else {
    const existing = d.manager.get(door.code);
    const ok = existing?.admits(door.session.sid) ?? { ok: true };
    if (!ok.ok) {
      d.onReject(409);
      reject(res, '409 Conflict', ok.reason);
      return;
    }
    const opens = !existing && d.limits.room(door.peer, d.now());
    if (opens) {
      d.onReject(429);
      reject(res, '429 Too Many Requests', refusalText(opens), opens.retryAfterS);
      return;
    }
    if (!existing && d.draining()) {
      d.onReject(503);
      reject(res, '503 Service Unavailable', 'this server is shutting down; try again in a moment');
      return;
    }
    if (!existing && d.manager.rooms.size >= d.cfg.maxRooms) {
      d.onReject(503);
      reject(res, '503 Service Unavailable', 'this server holds as many rooms as it may; try again later');
      return;
    }
  }
  res.upgrade<SocketData>(data, door.key, door.protocol, door.extensions, door.context);
}

/** The open socket learned its route: redirect it, refuse it (1013), or join the room and replay what it sent. */
function settle(ws: uWS.WebSocket<SocketData>, d: WsDeps, route: Route): void {
  const data = ws.getUserData();
  const early = data.early ?? [];
  data.pending = null;
  data.early = null;
  if (route.kind === 'unavailable') {
    d.onReject(503);
    ws.end(CLOSE_TRY_AGAIN, route.reason);
    return;
  }
  if (route.kind === 'elsewhere') {
    redirect(ws, d, data, route.owner);
    return;
  }
  const opens = !d.manager.get(data.code) && d.limits.room(data.peer, d.now());
  if (opens) {
    d.onReject(429);
    ws.end(CLOSE_TRY_AGAIN, refusalText(opens));
    return;
  }
  if (!join(ws, d, data)) return;
  const now = d.now();
  for (const bytes of early) {
    if (data.member === null || data.room === null) break; // closed by one of them
    data.room.receive(data.member, bytes, now, data.row);
  }
}

function redirect(ws: uWS.WebSocket<SocketData>, d: WsDeps, data: SocketData, o: InstanceRecord): void {
  d.cluster.counters.redirects++;
  const bytes = encodeServer({ type: S_REDIRECT, url: o.ws, instance: o.id, reason: `room ${data.code} lives on instance ${o.id}` });
  d.manager.wire.bytesOut += bytes.byteLength;
  ws.send(bytes, true);
  ws.end(CLOSE_REDIRECT, `room ${data.code} lives on instance ${o.id}`);
}

/** Seats the socket in its room (created if new here). False when it was refused and is closing. */
function join(ws: uWS.WebSocket<SocketData>, d: WsDeps, data: SocketData): boolean {
  const now = d.now();
  const room = d.draining() && !d.manager.get(data.code) ? null : d.manager.getOrCreate(data.code, now);
  if (!room) {
    d.cluster.released(data.code);
    ws.end(CLOSE_TRY_AGAIN, 'too many rooms; try again later');
    return false;
  }
  const link = new UwsLink(ws, roomTopic(data.code), data.peer, d.manager.wire);
  data.room = room;
  data.link = link;
  data.member = room.connect(data.session.sid, data.session.name, link, now);
  if (data.member !== null) data.row = data.member.row;
  return data.member !== null;
}

export function mountWs(app: uWS.TemplatedApp, d: WsDeps): void {
  app.ws<SocketData>('/ws', {
    compression: uWS.DISABLED,
    maxPayloadLength: LIMITS.maxMessageBytes,
    idleTimeout: d.cfg.idleTimeoutS,
    sendPingsAutomatically: true,
    // What one socket may hold (uWS drops sends past it): bounded, and room for SLOW_READER_BYTES to be seen.
    maxBackpressure: Math.max(4 * d.cfg.backpressureBytes + (1 << 20), d.cfg.slowReaderBytes + (256 << 10)),
    closeOnBackpressureLimit: 0,

    upgrade: (res, req, context) => {
      // Everything is read synchronously: req is only valid inside this callback.
      const peer = d.proxies.clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'));
      // The address's limits first: a flood costs a map lookup, not an HMAC or a room.
      const over = d.limits.upgrade(peer, d.now());
      if (over) {
        d.onReject(429);
        return reject(res, '429 Too Many Requests', refusalText(over), over.retryAfterS);
      }
      const query = new URLSearchParams(req.getQuery() ?? '');
      const origin = req.getHeader('origin');
      const host = req.getHeader('host');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (!originAllowed(origin, host, d.cfg.allowedOrigins)) {
        d.onReject(403);
        return reject(res, '403 Forbidden', `origin ${origin} is not allowed`);
      }
      const check = verifyToken(d.cfg.secret, query.get('token') ?? undefined, d.wallS());
      if (!check.ok) {
        d.onReject(401);
        return reject(res, '401 Unauthorized', check.reason);
      }
      const code = (query.get('room') ?? '').toUpperCase();
      if (!ROOM_CODE.test(code)) {
        d.onReject(400);
        return reject(res, '400 Bad Request', 'room must be 5 letters, e.g. ?room=ABCDE');
      }
      const door: Door = { session: check.session, code, peer, key, protocol, extensions, context };
      const route = d.cluster.directory.route(code);
      if (!(route instanceof Promise)) return admit(res, d, door, route);
      // Asking Redis: accept now (synchronously, see the header), route at `open`.
      res.upgrade<SocketData>(socketData(door, route), key, protocol, extensions, context);
    },

    open: (ws) => {
      const data = ws.getUserData();
      d.limits.opened(data.peer);
      if (data.pending !== null) {
        // Outside any uWS callback by then: cork the socket for what settle() writes.
        data.pending.then((r) => { if (!data.gone) ws.cork(() => settle(ws, d, r)); });
        return;
      }
      if (data.redirect) return redirect(ws, d, data, data.redirect);
      join(ws, d, data);
    },

    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      d.manager.wire.bytesIn += message.byteLength;
      if (data.member === null || data.room === null) { // compared, not tested for truth: no load of the object
        if (data.early !== null) early(ws, data.early, message, isBinary, d.manager.wire);
        return;
      }
      if (!isBinary) {
        d.manager.wire.refuse(CLOSE_BAD_MESSAGE);
        return data.link?.close(CLOSE_BAD_MESSAGE, 'binary messages only');
      }
      // Decoded synchronously: the ArrayBuffer is freed when this callback returns.
      data.room.receive(data.member, new Uint8Array(message), d.now(), data.row);
    },

    close: (ws) => {
      const data = ws.getUserData();
      data.gone = true;
      d.limits.closed(data.peer);
      if (data.link === null) return; // refused at open, or still waiting for its route: never joined a room
      data.link.closed = true;
      if (data.member && data.room) data.room.disconnect(data.member, data.link, d.now());
      data.member = null; // its row may be released from now on
      data.row = -1;
    },
  });
}
