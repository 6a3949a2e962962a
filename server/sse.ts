/**
 * The Server-Sent-Events door, for networks that refuse the WebSocket upgrade (contract:
 * netcode/protocol.ts's header, netcode/sse.ts):
 *
 *   GET  /api/rooms/CODE/events?token=T[&spectate=1]   text/event-stream, the same bytes base64'd
 *   POST /api/rooms/CODE/send?conn=ID&token=T          application/octet-stream, framed client messages
 *
 * A stream is a room Link like a WebSocket: the same checks before it opens (door.ts: the
 * address's limits, Origin, token, room, a seat or a spectator's place), the same room code
 * afterwards. The room's shared snapshot reaches the streams that joined its channel through
 * `SseHub.publish`, base64'd once for all of them. A POST carries the messages the WebSocket
 * would: each goes through the same room.receive (validation, rate limit, close codes); a
 * bad body closes the stream with CLOSE_BAD_MESSAGE and is answered 400.
 */
import { randomBytes } from 'node:crypto';
import type uWS from 'uWebSockets.js';
import { encodeServer } from '../netcode/codec.ts';
import { CLOSE_BAD_MESSAGE, CLOSE_REDIRECT, LIMITS, S_REDIRECT, S_SNAPSHOT } from '../netcode/protocol.ts';
import { SSE_PING, sseNamed, splitMessages } from '../netcode/sse.ts';
import { admission, checkEntry, type DoorDeps, type Entry, enter, isRefusal, type Refusal, rejected, routeOf, type Where } from './door.ts';
import { clientOf, readBody } from './http.ts';
import type { Member } from './member.ts';
import { originAllowed } from './origin.ts';
import type { TrustedProxies } from './proxy.ts';
import type { Room } from './room.ts';
import { verifyToken } from './tokens.ts';
import type { Link } from './transport.ts';
import type { Viewer } from './watchers.ts';

export interface SseDeps extends DoorDeps {
  proxies: TrustedProxies;
}

/** A POST body's bound: a batch of a few inputs, a ping and a chat line is well under it. */
export const MAX_POST_BYTES = 8 << 10;
/** A stream that has written nothing for this long gets a `: ping` comment (uWS and proxies time out idle responses). */
export const SSE_QUIET_MS = 5000;

/** SNAPSHOT's tick from its msgpack header ([17, tick, …]), for the event's `id:`. */
function snapshotTick(b: Uint8Array): number | undefined {
  if (b[0] !== 0x96 || b[1] !== S_SNAPSHOT) return undefined;
  const t = b[2];
  if (t < 0x80) return t;
  if (t === 0xcc) return b[3];
  if (t === 0xcd) return (b[3] << 8) | b[4];
  if (t === 0xce) return ((b[3] << 24) >>> 0) + ((b[4] << 16) | (b[5] << 8) | b[6]);
  return undefined;
}

/** One server message as an event: `id: <tick>` on a SNAPSHOT, the bytes in base64. */
export function eventText(bytes: Uint8Array): string {
  const tick = snapshotTick(bytes);
  const data = `data: ${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}\n\n`;
  return tick === undefined ? data : `id: ${tick}\n${data}`;
}

/** One open event stream: a room Link, and where its POSTs go. */
class SseStream implements Link {
  closed = false;
  /** uWS said the response is backed up; what was written since (cleared once it drains). */
  private blocked = false;
  private backlog = 0;
  lastWriteMs: number;
  room: Room | null = null;
  member: Member | null = null;
  viewer: Viewer | null = null;

  constructor(
    readonly id: string, private readonly res: uWS.HttpResponse, readonly entry: Entry, private readonly hub: SseHub,
    private readonly d: SseDeps,
  ) {
    this.lastWriteMs = d.now();
  }

  get peer(): string {
    return this.entry.peer;
  }

  write(text: string): void {
    if (this.closed) return;
    this.d.manager.wire.bytesOut += text.length;
    this.lastWriteMs = this.d.now();
    this.res.cork(() => {
      if (!this.res.write(text) && !this.blocked) {
        this.blocked = true;
        this.res.onWritable(() => {
          this.blocked = false;
          this.backlog = 0;
          return true;
        });
      }
    });
    if (this.blocked) this.backlog += text.length;
  }

  send(bytes: Uint8Array): void {
    this.write(eventText(bytes));
  }

  buffered(): number {
    return this.closed ? 0 : this.backlog;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.write(sseNamed('close', `${code} ${reason}`));
    this.res.cork(() => this.res.end());
    this.gone();
  }

  join(on: boolean): void {
    if (!this.closed) this.hub.member(this, on);
  }

  /** One client message from a POST, as the WebSocket's message handler would hand it on. */
  deliver(bytes: Uint8Array): void {
    if (this.closed || this.room === null) return;
    if (this.viewer !== null) this.room.receiveWatcher(this.viewer, bytes, this.d.now());
    else if (this.member !== null) this.room.receive(this.member, bytes, this.d.now());
  }

  /** The stream ended (closed here, or the client went): out of the room and the hub. */
  gone(): void {
    const first = !this.closed || this.hub.has(this);
    this.closed = true;
    if (!first) return;
    this.hub.forget(this);
    this.d.limits.closed(this.entry.peer);
    if (this.viewer && this.room) this.room.unwatch(this.viewer);
    if (this.member && this.room) this.room.disconnect(this.member, this, this.d.now());
    this.member = null;
    this.viewer = null;
  }
}

/** The open streams: by connection id (POSTs), and by room (the shared publish). */
export class SseHub {
  private readonly streams = new Map<string, SseStream>();
  private readonly rooms = new Map<string, Set<SseStream>>();
  /** The last message published and its event text: one base64 per room per tick, whatever the streams. */
  private memo: { bytes: Uint8Array | null; text: string } = { bytes: null, text: '' };

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.streams.size;
  }

  get(id: string): SseStream | undefined {
    return this.streams.get(id);
  }

  has(s: SseStream): boolean {
    return this.streams.get(s.id) === s;
  }

  add(s: SseStream): void {
    this.streams.set(s.id, s);
  }

  forget(s: SseStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    this.member(s, false);
  }

  member(s: SseStream, on: boolean): void {
    const code = s.entry.code;
    let set = this.rooms.get(code);
    if (on) {
      if (!set) {
        set = new Set();
        this.rooms.set(code, set);
      }
      set.add(s);
    } else if (set?.delete(s) && set.size === 0) this.rooms.delete(code);
  }

  /** The room's shared message to every stream on its channel (the WebSocket side is uWS's topic). */
  publish(code: string, bytes: Uint8Array): void {
    const set = this.rooms.get(code);
    if (!set) return;
    if (this.memo.bytes !== bytes) this.memo = { bytes, text: eventText(bytes) };
    for (const s of set) s.write(this.memo.text);
  }

  /** A `: ping` to each stream quiet for SSE_QUIET_MS (main.ts calls it every second). */
  heartbeat(): void {
    const quiet = this.now() - SSE_QUIET_MS;
    for (const s of this.streams.values()) if (s.lastWriteMs <= quiet) s.write(SSE_PING);
  }

  /** Ends every stream (the server stops; rooms have closed theirs already). */
  stop(code: number, reason: string): void {
    for (const s of [...this.streams.values()]) s.close(code, reason);
  }
}

function refuse(res: uWS.HttpResponse, r: Refusal): void {
  res.cork(() => {
    res.writeStatus(r.status).writeHeader('content-type', 'text/plain; charset=utf-8').writeHeader('cache-control', 'no-store');
    if (r.retryAfterS > 0) res.writeHeader('retry-after', String(r.retryAfterS));
    res.end(r.reason);
  });
}

const status = (status: string, reason: string): Refusal => ({ status, reason, retryAfterS: 0 });

/** The route is known and the client still waits: refuse, redirect (on a stream, as the WebSocket would), or join. */
function open(res: uWS.HttpResponse, d: SseDeps, hub: SseHub, e: Entry, route: Where, lastEventId: string, viaFront: boolean): SseStream | null {
  let where = route;
  const no = where.kind === 'unavailable' ? status('503 Service Unavailable', where.reason)
    : where.kind === 'absent' ? status('404 Not Found', where.reason)
    : where.kind === 'here' ? admission(d, e) : null;
  if (no) {
    refuse(res, rejected(d, no));
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
    if (isRefusal(entry)) return refuse(res, rejected(d, entry));
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
    const no = (r: Refusal) => refuse(res, rejected(d, r));
    if (!/^application\/octet-stream\s*(;|$)/i.test(type)) return no(status('415 Unsupported Media Type', 'send application/octet-stream: client messages, each a 2-byte big-endian length and the message'));
    if (!originAllowed(origin, host, d.cfg.allowedOrigins)) return no(status('403 Forbidden', `origin ${origin} is not allowed`));
    const check = verifyToken(d.cfg.secret, query.get('token') ?? undefined, d.wallS());
    if (!check.ok) return no(status('401 Unauthorized', check.reason));
    const s = hub.get(query.get('conn') ?? '');
    if (!s || s.entry.code !== code) return no(status('404 Not Found', 'no open event stream with that conn for this room: open /events again'));
    if (s.entry.session.sid !== check.session.sid) return no(status('403 Forbidden', 'that event stream belongs to another session'));
    readBody(res, MAX_POST_BYTES, (body, left) => {
      d.manager.wire.bytesIn += body.byteLength;
      const messages = splitMessages(body);
      const bad = !messages ? 'a POST body is messages, each a 2-byte big-endian length (1 or more) and that many bytes'
        : messages.some((m) => m.byteLength > LIMITS.maxMessageBytes) ? `a message over ${LIMITS.maxMessageBytes} bytes` : '';
      if (bad) {
        d.manager.wire.refuse(CLOSE_BAD_MESSAGE);
        s.close(CLOSE_BAD_MESSAGE, bad);
        if (!left()) no(status('400 Bad Request', bad));
        return;
      }
      for (const m of messages as Uint8Array[]) s.deliver(m);
      if (!left()) res.cork(() => res.writeStatus('204 No Content').end());
    });
  });

  return hub;
}
