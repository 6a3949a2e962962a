/**
 * The Server-Sent-Events door, for networks that refuse the WebSocket upgrade (contract:
 * netcode/protocol.ts's header, netcode/sse.ts):
 *
 *   GET  /api/rooms/CODE/events?token=T[&spectate=1]   text/event-stream, the same bytes base64'd
 *   POST /api/rooms/CODE/send?conn=ID&token=T          application/octet-stream, framed client messages
 *
 * A stream is a room Link like a WebSocket (ssestream.ts): the same checks before it opens
 * (door.ts: the address's limits, Origin, token, room, a seat or a spectator's place), the
 * same room code afterwards. A POST carries the messages the WebSocket
 * would: each goes through the same room.receive (validation, rate limit, close codes); a
 * bad body closes the stream with CLOSE_BAD_MESSAGE and is answered 400.
 */
import { randomBytes } from 'node:crypto';
import type uWS from 'uWebSockets.js';
import { encodeServer } from '../netcode/codec.ts';
import { CLOSE_BAD_MESSAGE, CLOSE_REDIRECT, LIMITS, S_REDIRECT } from '../netcode/protocol.ts';
import { sseNamed, splitMessages } from '../netcode/sse.ts';
import {
  checkEntry, type DoorDeps, type Entry, enter, isRefusal, type Refusal, refusal, rejected, routeOf, type Where, whereRefusal,
} from './door.ts';
import { clientOf, readBody, refuseEntry } from './http.ts';
import { originAllowed } from './origin.ts';
import type { TrustedProxies } from './proxy.ts';
import { SseHub, SseStream } from './ssestream.ts';
import { verifyToken } from './tokens.ts';

export interface SseDeps extends DoorDeps {
  proxies: TrustedProxies;
}

/** A POST body's bound: a batch of a few inputs, a ping and a chat line is well under it. */
export const MAX_POST_BYTES = 8 << 10;

/** The route is known and the client still waits: refuse, redirect (on a stream, as the WebSocket would), or join. */
function open(res: uWS.HttpResponse, d: SseDeps, hub: SseHub, e: Entry, route: Where, lastEventId: string, viaFront: boolean): SseStream | null {
  let where = route;
  const no = whereRefusal(d, e, where);
  if (no) {
    refuseEntry(res, rejected(d, no));
    return null;
  }
  // Reached through the cluster front's round robin: the POSTs would be too, to any instance.
  // Sent on to this instance's own address (REDIRECT), where the stream and its POSTs meet.
  if (where.kind === 'here' && viaFront) {
    const self = d.cluster.record();
    where = { kind: 'elsewhere', owner: { id: self.id, ws: self.ws } };
  }
  const s = new SseStream(randomBytes(12).toString('base64url'), res, e, hub, d);
  d.limits.opened(e.peer);
  hub.add(s);
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('content-type', 'text/event-stream').writeHeader('cache-control', 'no-cache')
      .writeHeader('x-accel-buffering', 'no');
    s.write(sseNamed('open', s.id));
  });
  if (where.kind === 'elsewhere') {
    const reason = where.owner.id === d.cfg.instanceId ? `an event stream of room ${e.code} goes to instance ${where.owner.id} itself`
      : `room ${e.code} lives on instance ${where.owner.id}`;
    d.cluster.counters.redirects++;
    s.send(encodeServer({ type: S_REDIRECT, url: where.owner.ws, instance: where.owner.id, reason }));
    s.close(CLOSE_REDIRECT, reason);
    return null;
  }
  const joined = enter(d, e, s);
  if (!joined) return null;
  s.room = joined.room;
  s.member = joined.member;
  s.viewer = joined.viewer;
  // A spectator's stream is welcomed at once (curl can watch); Last-Event-ID resumes it by delta.
  if (s.viewer) joined.room.watchers.welcome(s.viewer, joined.room, /^\d{1,10}$/.test(lastEventId) ? Number(lastEventId) : 0);
  return s;
}

export function mountSse(app: uWS.TemplatedApp, d: SseDeps): SseHub {
  const hub = new SseHub(d.now);

  app.get('/api/rooms/:code/events', (res, req) => {
    const query = new URLSearchParams(req.getQuery() ?? '');
    query.set('room', req.getParameter(0) ?? '');
    const lastEventId = req.getHeader('last-event-id');
    const viaFront = d.cluster.clustered && req.getHeader('x-tickwire-front') === 'any';
    const entry = checkEntry(d, clientOf(res, req, d.proxies), req.getHeader('origin'), req.getHeader('host'), query);
    if (isRefusal(entry)) return refuseEntry(res, rejected(d, entry));
    const state: { aborted: boolean; stream: SseStream | null } = { aborted: false, stream: null };
    res.onAborted(() => {
      state.aborted = true;
      state.stream?.gone();
    });
    const go = (where: Where) => {
      if (!state.aborted) res.cork(() => { state.stream = open(res, d, hub, entry, where, lastEventId, viaFront); });
    };
    const route = routeOf(d, entry);
    if (route instanceof Promise) route.then(go);
    else go(route);
  });

  app.post('/api/rooms/:code/send', (res, req) => {
    const type = req.getHeader('content-type');
    const origin = req.getHeader('origin');
    const host = req.getHeader('host');
    const query = new URLSearchParams(req.getQuery() ?? '');
    const code = (req.getParameter(0) ?? '').toUpperCase();
    const no = (r: Refusal) => refuseEntry(res, rejected(d, r));
    if (!/^application\/octet-stream\s*(;|$)/i.test(type)) return no(refusal('415 Unsupported Media Type', 'send application/octet-stream: client messages, each a 2-byte big-endian length and the message'));
    if (!originAllowed(origin, host, d.cfg.allowedOrigins)) return no(refusal('403 Forbidden', `origin ${origin} is not allowed`));
    const check = verifyToken(d.cfg.secret, query.get('token') ?? undefined, d.wallS());
    if (!check.ok) return no(refusal('401 Unauthorized', check.reason));
    const s = hub.get(query.get('conn') ?? '');
    if (!s || s.entry.code !== code) return no(refusal('404 Not Found', 'no open event stream with that conn for this room: open /events again'));
    if (s.entry.session.sid !== check.session.sid) return no(refusal('403 Forbidden', 'that event stream belongs to another session'));
    readBody(res, MAX_POST_BYTES, (body, left) => {
      d.manager.wire.bytesIn += body.byteLength;
      const messages = splitMessages(body);
      const bad = !messages ? 'a POST body is messages, each a 2-byte big-endian length (1 or more) and that many bytes'
        : messages.some((m) => m.byteLength > LIMITS.maxMessageBytes) ? `a message over ${LIMITS.maxMessageBytes} bytes` : '';
      if (bad) {
        d.manager.wire.refuse(CLOSE_BAD_MESSAGE);
        s.close(CLOSE_BAD_MESSAGE, bad);
        if (!left()) no(refusal('400 Bad Request', bad));
        return;
      }
      for (const m of messages as Uint8Array[]) s.deliver(m);
      if (!left()) res.cork(() => res.writeStatus('204 No Content').end());
    });
  });

  return hub;
}
