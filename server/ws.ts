/**
 * The WebSocket door: `/ws?room=CODE&token=TOKEN`. The upgrade handler checks
 * Origin and the signed token before any socket exists (403 / 401 with a reason
 * in the body), and refuses a full room (409); door.ts holds those checks, shared
 * with the SSE transport. Open sockets become room Links. `&spectate=1` opens a
 * spectator's socket: no seat, refused (404) when no instance holds the room.
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
import { CLOSE_BAD_MESSAGE, CLOSE_RATE_LIMIT, CLOSE_REDIRECT, CLOSE_ROOM_CLOSED, CLOSE_TRY_AGAIN, LIMITS, S_REDIRECT } from '../netcode/protocol.ts';
import { checkEntry, type DoorDeps, type Entry, enter, isRefusal, lateOpen, rejected, routeOf, type Where, whereRefusal } from './door.ts';
import { refuseEntry } from './http.ts';
import type { InstanceRecord } from './cluster/records.ts';
import type { Member } from './member.ts';
import type { TrustedProxies } from './proxy.ts';
import type { Room } from './room.ts';
import type { Link } from './transport.ts';
import type { Viewer } from './watchers.ts';
import type { WireStats } from './wirestats.ts';

/**
 * uWS copies these fields onto the socket's own object (getUserData returns it).
 * Every field is set at the upgrade, so every socket has the same shape from the
 * start and its property store is allocated once, not grown when the room is
 * joined. The message handler reads it cold, among hundreds of sockets.
 */
interface SocketData {
  entry: Entry;
  room: Room | null;
  member: Member | null;
  /** The member's seat row (`Member.row`): what a message reads instead of the member. */
  row: number;
  /** A spectator's place in the room (member stays null). */
  viewer: Viewer | null;
  link: UwsLink | null;
  /** The room lives on this other instance: `open` sends REDIRECT and closes. */
  redirect: Pick<InstanceRecord, 'id' | 'ws'> | null;
  /** The client's address (X-Forwarded-For only from a trusted proxy). */
  peer: string;
  /** The directory's answer is still coming: the socket is open but in no room yet. */
  pending: Promise<Where> | null;
  /** What the client sent while `pending` (copies: uWS frees the originals). */
  early: Uint8Array[] | null;
  /** The close handler ran: a late route must not touch the socket. */
  gone: boolean;
}

/** Messages a socket may send before its route is known (a HELLO, maybe a PING or two). */
const MAX_EARLY_MESSAGES = 16;

export interface WsDeps extends DoorDeps {
  proxies: TrustedProxies;
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

/** A spectator's message: to its room's watchers (HELLO, PING, ACK 0; anything else closes it). */
function watcherMessage(data: SocketData, message: ArrayBuffer, isBinary: boolean, d: WsDeps): void {
  if (data.room === null || data.viewer === null) return;
  if (isBinary) {
    data.room.receiveWatcher(data.viewer, new Uint8Array(message), d.now());
    return;
  }
  d.manager.wire.refuse(CLOSE_BAD_MESSAGE);
  data.link?.close(CLOSE_BAD_MESSAGE, 'binary messages only');
}

/** What the upgrade read from its request (which dies when the handler returns). */
interface Door {
  entry: Entry;
  key: string;
  protocol: string;
  extensions: string;
  context: uWS.us_socket_context_t;
}

/** A socket's data at the upgrade; `pending` when its route is still coming from Redis. */
function socketData(door: Door, pending: Promise<Where> | null): SocketData {
  return {
    entry: door.entry, room: null, member: null, row: -1, viewer: null, link: null, redirect: null, peer: door.entry.peer, pending,
    early: pending ? [] : null, gone: false,
  };
}

/** Completes an upgrade whose route is known now: here (if the room admits us), elsewhere (REDIRECT at open), or refused. */
function admit(res: uWS.HttpResponse, d: WsDeps, door: Door, route: Where): void {
  const data = socketData(door, null);
  const no = whereRefusal(d, door.entry, route);
  if (no) {
    refuseEntry(res, rejected(d, no));
    return;
  }
  if (route.kind === 'elsewhere') data.redirect = route.owner;
  res.upgrade<SocketData>(data, door.key, door.protocol, door.extensions, door.context);
}

/** The open socket learned its route: redirect it, refuse it, or join the room and replay what it sent. */
function settle(ws: uWS.WebSocket<SocketData>, d: WsDeps, route: Where): void {
  const data = ws.getUserData();
  const early = data.early ?? [];
  data.pending = null;
  data.early = null;
  if (route.kind === 'unavailable' || route.kind === 'absent') {
    d.onReject(route.kind === 'absent' ? 404 : 503);
    ws.end(route.kind === 'absent' ? CLOSE_ROOM_CLOSED : CLOSE_TRY_AGAIN, route.reason);
    return;
  }
  if (route.kind === 'elsewhere') {
    redirect(ws, d, data, route.owner);
    return;
  }
  const opens = lateOpen(d, data.entry);
  if (opens) {
    ws.end(CLOSE_TRY_AGAIN, opens);
    return;
  }
  if (!join(ws, d, data)) return;
  const now = d.now();
  for (const bytes of early) {
    if (data.room === null || data.gone) break; // closed by one of them
    if (data.viewer !== null) data.room.receiveWatcher(data.viewer, bytes, now);
    else if (data.member !== null) data.room.receive(data.member, bytes, now, data.row);
    else break;
  }
}

function redirect(ws: uWS.WebSocket<SocketData>, d: WsDeps, data: SocketData, o: Pick<InstanceRecord, 'id' | 'ws'>): void {
  d.cluster.counters.redirects++;
  const reason = `room ${data.entry.code} lives on instance ${o.id}`;
  const bytes = encodeServer({ type: S_REDIRECT, url: o.ws, instance: o.id, reason });
  d.manager.wire.bytesOut += bytes.byteLength;
  ws.send(bytes, true);
  ws.end(CLOSE_REDIRECT, reason);
}

/** Seats the socket in its room (created if new here), or places a spectator. False when it was refused and is closing. */
function join(ws: uWS.WebSocket<SocketData>, d: WsDeps, data: SocketData): boolean {
  const link = new UwsLink(ws, roomTopic(data.entry.code), data.peer, d.manager.wire);
  data.link = link;
  const e = enter(d, data.entry, link);
  if (!e) return false;
  data.room = e.room;
  data.member = e.member;
  data.viewer = e.viewer;
  if (e.member !== null) data.row = e.member.row;
  return true;
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
      // The address's limits come first in checkEntry: a flood costs a map lookup, not an HMAC or a room.
      const peer = d.proxies.clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'));
      const entry = checkEntry(d, peer, req.getHeader('origin'), req.getHeader('host'), new URLSearchParams(req.getQuery() ?? ''));
      if (isRefusal(entry)) return refuseEntry(res, rejected(d, entry));
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const door: Door = { entry, key, protocol, extensions, context };
      const route = routeOf(d, entry);
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
        if (data.viewer !== null) watcherMessage(data, message, isBinary, d);
        else if (data.early !== null) early(ws, data.early, message, isBinary, d.manager.wire);
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
      if (data.viewer && data.room) data.room.unwatch(data.viewer);
      if (data.member && data.room) data.room.disconnect(data.member, data.link, d.now());
      data.member = null; // its row may be released from now on
      data.viewer = null;
      data.row = -1;
    },
  });
}
