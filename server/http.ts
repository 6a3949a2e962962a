/**
 * HTTP routes: guest sessions, the room list and directory (cluster-wide when
 * clustered), health, metrics and the built client. The admin routes are admin.ts's.
 */
import type uWS from 'uWebSockets.js';
import { cleanText } from '../netcode/text.ts';
import { LIMITS } from '../netcode/protocol.ts';
import { REPLAY_ID } from '../netcode/replay.ts';
import { Unavailable } from './cluster/directory.ts';
import type { ClusterNode } from './cluster/node.ts';
import { publicInstance } from './cluster/records.ts';
import type { Config } from './config.ts';
import { type IpLimits, type Refusal, refusalText } from './iplimits.ts';
import type { TrustedProxies } from './proxy.ts';
import type { ReplayStore } from './replays.ts';
import type { RoomManager } from './rooms.ts';
import type { StaticFile } from './static.ts';
import { issueToken, newSessionId } from './tokens.ts';
import type { Registry } from 'prom-client';

type Res = uWS.HttpResponse;

export interface HttpDeps {
  cfg: Config;
  manager: RoomManager;
  cluster: ClusterNode;
  files: Map<string, StaticFile>;
  registry: Registry;
  /** Monotonic ms (the rooms' clock). */
  now: () => number;
  /** Wall-clock seconds (token expiry). */
  wallS: () => number;
  uptimeS: () => number;
  /** Draining for a deploy (drain.ts): /healthz answers 503 "draining" so a proxy takes the instance out. */
  draining: () => boolean;
  proxies: TrustedProxies;
  limits: IpLimits;
  /** Recorded matches; null when REPLAY_DIR is empty (recording off). */
  replays: ReplayStore | null;
}

export function send(res: Res, status: string, type: string, body: string | Uint8Array, headers: [string, string][] = []): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', type).writeHeader('cache-control', 'no-store');
    for (const [k, v] of headers) res.writeHeader(k, v);
    res.end(body);
  });
}

export const json = (res: Res, status: string, value: unknown, headers: [string, string][] = []) =>
  send(res, status, 'application/json', JSON.stringify(value), headers);

/** A door's refusal (door.ts: an upgrade or an event stream that may not open): the status, Retry-After, the reason as text. */
export function refuseEntry(res: Res, r: { status: string; reason: string; retryAfterS: number }): void {
  send(res, r.status, 'text/plain; charset=utf-8', r.reason, r.retryAfterS > 0 ? [['retry-after', String(r.retryAfterS)]] : []);
}

/** 429 with Retry-After: a per-address limit said no (iplimits.ts). */
export function tooMany(res: Res, r: Refusal): void {
  json(res, '429 Too Many Requests', { error: refusalText(r), limit: r.limit, retry_after_s: r.retryAfterS }, [
    ['retry-after', String(r.retryAfterS)],
  ]);
}

/** The client's address: the peer, or X-Forwarded-For from a trusted proxy. Read inside the handler (req dies after). */
export function clientOf(res: Res, req: uWS.HttpRequest, proxies: TrustedProxies): string {
  return proxies.clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'));
}

/**
 * An answer that needs Redis: sent when it comes (unless the client left); Unavailable → 503,
 * other errors → 500. `gone` says whether the client left, when readBody already watches that.
 */
export function later(res: Res, work: () => Promise<[status: string, body: unknown]>, gone?: () => boolean): void {
  let left = false;
  const aborted = gone ?? (() => left);
  if (!gone) res.onAborted(() => { left = true; });
  work().then(([status, body]) => { if (!aborted()) json(res, status, body); }, (err: Error) => {
    if (aborted()) return;
    if (err instanceof Unavailable) json(res, '503 Service Unavailable', { error: err.message });
    else json(res, '500 Internal Server Error', { error: err.message });
  });
}

/** Reads a small request body; answers 413 past `max` bytes. `gone()` says whether the client has left since. */
export function readBody(res: Res, max: number, done: (body: Buffer, gone: () => boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let aborted = false;
  res.onAborted(() => { aborted = true; });
  res.onData((chunk, last) => {
    if (aborted) return;
    size += chunk.byteLength;
    if (size > max) {
      aborted = true;
      json(res, '413 Payload Too Large', { error: 'body too large' });
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0))); // the ArrayBuffer dies when this callback returns
    if (last) done(Buffer.concat(chunks), () => aborted);
  });
}

export function mountHttp(app: uWS.TemplatedApp, d: HttpDeps): void {
  app.post('/api/session', (res, req) => {
    const over = d.limits.session(clientOf(res, req, d.proxies), d.now());
    if (over) return tooMany(res, over);
    readBody(res, 2048, (body) => {
      let name: unknown;
      try {
        name = JSON.parse(body.toString('utf8') || '{}').name;
      } catch {
        return json(res, '400 Bad Request', { error: 'body must be JSON like {"name": "Ada"}' });
      }
      if (typeof name !== 'string') return json(res, '400 Bad Request', { error: 'name must be a string' });
      const clean = cleanText(name, LIMITS.maxNameLength);
      if (clean.length === 0) return json(res, '400 Bad Request', { error: 'name is empty' });
      const exp = Math.floor(d.wallS()) + d.cfg.tokenTtlS;
      json(res, '200 OK', { token: issueToken(d.cfg.secret, { sid: newSessionId(), name: clean, exp }), name: clean, expires: exp });
    });
  });

  const dir = d.cluster.directory;
  const clustered = d.cluster.clustered;
  // Every live instance's rooms (this one's alone when standalone, or when Redis is down: `degraded`).
  app.get('/api/rooms', (res) => later(res, async () => ['200 OK', { ...(await dir.lobby()), clustered }]));

  // Which instance owns a room, and its addresses: any instance answers for all.
  app.get('/api/rooms/:code', (res, req) => {
    const code = req.getParameter(0)?.toUpperCase() ?? '';
    if (!/^[A-Z]{5}$/.test(code)) return json(res, '400 Bad Request', { error: 'a room code is 5 letters, e.g. /api/rooms/ABCDE' });
    later(res, async () => {
      const o = await dir.owner(code);
      return o ? ['200 OK', o] : ['404 Not Found', { error: `no room ${code}: nobody holds it (a join opens it)` }];
    });
  });

  // A fresh code, claimed for the least-loaded instance; the room opens with its first join.
  app.post('/api/rooms', (res, req) => {
    const over = d.limits.room(clientOf(res, req, d.proxies), d.now());
    if (over) return tooMany(res, over);
    later(res, async () => ['200 OK', await dir.newRoom()]);
  });

  // Like the lobby, degraded rather than failed when Redis is slow or down: this instance alone, said so.
  app.get('/api/instances', (res) => later(res, async () => {
    let degraded = false;
    const records = await dir.records().catch(() => {
      degraded = true;
      return [d.cluster.record()];
    });
    return ['200 OK', { self: d.cluster.id, clustered, degraded, instances: records.map((r) => publicInstance(r, r.id === d.cluster.id)) }];
  }));

  // Recorded matches, newest first (?limit=1-200, default 50), and one replay's file as written.
  app.get('/api/replays', (res, req) => {
    const raw = req.getQuery('limit');
    const limit = raw ? Number(raw) : 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) return json(res, '400 Bad Request', { error: 'limit must be 1-200' });
    const store = d.replays;
    if (!store) return json(res, '200 OK', { recording: false, total: 0, replays: [] });
    later(res, async () => {
      const all = await store.list();
      return ['200 OK', { recording: true, total: all.length, replays: all.slice(0, limit) }];
    });
  });
  app.get('/api/replays/:id', (res, req) => {
    const id = req.getParameter(0) ?? '';
    if (!REPLAY_ID.test(id)) return json(res, '400 Bad Request', { error: 'not a replay id' });
    const store = d.replays;
    if (!store) return json(res, '404 Not Found', { error: 'recording is off on this server (REPLAY_DIR is empty)' });
    let gone = false;
    res.onAborted(() => { gone = true; });
    store.read(id).then((file) => {
      if (gone) return;
      if (!file) return json(res, '404 Not Found', { error: `no replay ${id}` });
      send(res, '200 OK', 'application/gzip', file, [['content-disposition', `attachment; filename="${id}.replay"`]]);
    }, (err: Error) => { if (!gone) json(res, '500 Internal Server Error', { error: err.message }); });
  });

  app.get('/healthz', (res) => {
    const m = d.manager;
    const snaps = m.snapshotCounts;
    const draining = d.draining();
    json(res, draining ? '503 Service Unavailable' : '200 OK', {
      status: draining ? 'draining' : 'ok',
      instance: d.cluster.id,
      cluster: d.cluster.health(),
      uptime_s: Math.round(d.uptimeS()),
      rooms: m.rooms.size,
      clients: m.clients,
      tick_rate: d.cfg.tickRate,
      ticks: m.ticks,
      last_tick_ms: round3(m.lastTickMs),
      tick_ms: { p50: round3(m.tickMs.quantile(0.5)), p99: round3(m.tickMs.quantile(0.99)), max: round3(m.tickMs.peak) },
      ticks_overrun: m.overruns,
      ticks_dropped: m.dropped,
      snapshots_sent: snaps.sent,
      snapshots_shared: snaps.shared,
      snapshots_skipped: snaps.skipped,
      slow_readers_closed: snaps.slowClosed,
      input_ack_ms: { p50: round3(m.inputAckMs.quantile(0.5)), p99: round3(m.inputAckMs.quantile(0.99)), max: round3(m.inputAckMs.peak) },
      cpu_s: cpuSeconds(),
      rss_mb: Math.round(process.memoryUsage.rss() / 1048576),
    });
  });

  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    d.registry.metrics().then((text) => { if (!aborted) send(res, '200 OK', d.registry.contentType, text); });
  });

  app.get('/*', (res, req) => {
    const url = req.getUrl();
    const gzipOk = /\bgzip\b/.test(req.getHeader('accept-encoding'));
    let file = d.files.get(url);
    // Unknown non-asset paths get the app (client-side routes like /#/r/CODE land on index.html).
    if (!file && !url.startsWith('/assets/') && !url.startsWith('/api/')) file = d.files.get('/index.html');
    if (!file) {
      const hint = d.files.size === 0 ? 'client not built: run `npm run build` (npm start does it)' : 'not found';
      return send(res, '404 Not Found', 'text/plain; charset=utf-8', hint);
    }
    const headers: [string, string][] = [['cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache']];
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('content-type', file.type).writeHeader('vary', 'accept-encoding');
      for (const [k, v] of headers) res.writeHeader(k, v);
      if (gzipOk && file.gzip) res.writeHeader('content-encoding', 'gzip').end(file.gzip);
      else res.end(file.body);
    });
  });
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** User + system CPU seconds of this process. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return round3((u.user + u.system) / 1e6);
}
