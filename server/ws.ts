/**
 * The WebSocket door: `/ws?room=CODE&token=TOKEN`. The upgrade handler checks
 * Origin and the signed token before any socket exists (403 / 401 with a reason
 * in the body), and refuses a full room (409). Open sockets become room Links.
 */
import uWS from 'uWebSockets.js';
import { LIMITS } from '../netcode/protocol.ts';
import { CLOSE_BAD_MESSAGE } from '../netcode/protocol.ts';
import type { Config } from './config.ts';
import type { Member } from './member.ts';
import { originAllowed } from './origin.ts';
import type { Room } from './room.ts';
import { ROOM_CODE, type RoomManager } from './rooms.ts';
import type { Session } from './tokens.ts';
import { verifyToken } from './tokens.ts';
import type { Link } from './transport.ts';

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
}

export interface WsDeps {
  cfg: Config;
  manager: RoomManager;
  /** Monotonic ms (the rooms' clock). */
  now: () => number;
  /** Wall-clock seconds (token expiry). */
  wallS: () => number;
  onReject: (status: number) => void;
}

/** The uWS topic of a room's Channel. */
export const roomTopic = (code: string): string => `room/${code}`;

/** A uWS socket as a room Link. */
class UwsLink implements Link {
  closed = false; // set by the close handler: the socket must not be touched after

  constructor(private readonly ws: uWS.WebSocket<SocketData>, private readonly topic: string) {}

  send(bytes: Uint8Array): void {
    if (!this.closed) this.ws.cork(() => this.ws.send(bytes, true));
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

function reject(res: uWS.HttpResponse, status: string, reason: string): void {
  res.cork(() => res.writeStatus(status).writeHeader('content-type', 'text/plain; charset=utf-8').end(reason));
}

export function mountWs(app: uWS.TemplatedApp, d: WsDeps): void {
  app.ws<SocketData>('/ws', {
    compression: uWS.DISABLED,
    maxPayloadLength: LIMITS.maxMessageBytes,
    idleTimeout: d.cfg.idleTimeoutS,
    sendPingsAutomatically: true,
    maxBackpressure: 4 * d.cfg.backpressureBytes + (1 << 20),
    closeOnBackpressureLimit: 0,

    upgrade: (res, req, context) => {
      // Everything is read synchronously: req is only valid inside this callback.
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
      const existing = d.manager.get(code);
      const admit = existing?.admits(check.session.sid) ?? { ok: true };
      if (!admit.ok) {
        d.onReject(409);
        return reject(res, '409 Conflict', admit.reason);
      }
      if (!existing && d.manager.rooms.size >= d.cfg.maxRooms) {
        d.onReject(503);
        return reject(res, '503 Service Unavailable', 'this server holds as many rooms as it may; try again later');
      }
      res.upgrade<SocketData>({ session: check.session, code, room: null, member: null, row: -1, link: null }, key, protocol, extensions, context);
    },

    open: (ws) => {
      const data = ws.getUserData();
      const now = d.now();
      const room = d.manager.getOrCreate(data.code, now);
      if (!room) {
        ws.end(1013, 'too many rooms; try again later');
        return;
      }
      const link = new UwsLink(ws, roomTopic(data.code));
      data.room = room;
      data.link = link;
      data.member = room.connect(data.session.sid, data.session.name, link, now);
      if (data.member !== null) data.row = data.member.row;
    },

    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      if (data.member === null || data.room === null) return; // compared, not tested for truth: no load of the object
      if (!isBinary) return data.link?.close(CLOSE_BAD_MESSAGE, 'binary messages only');
      // Decoded synchronously: the ArrayBuffer is freed when this callback returns.
      data.room.receive(data.member, new Uint8Array(message), d.now(), data.row);
    },

    close: (ws) => {
      const data = ws.getUserData();
      if (data.link === null) return; // refused at open: never joined a room
      data.link.closed = true;
      if (data.member && data.room) data.room.disconnect(data.member, data.link, d.now());
      data.member = null; // its row may be released from now on
      data.row = -1;
    },
  });
}
