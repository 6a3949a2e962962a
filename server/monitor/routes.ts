/**
 * The live monitor, behind ADMIN_TOKEN like the admin API (admin.ts):
 *
 *   GET /monitor                 with `Authorization: Bearer TOKEN`: the page (page.ts). Without the
 *                                token 401 (403 when the admin API is off), with a small page that asks
 *                                for it, fetches /monitor with it and writes the page it gets in its place
 *   WS  /api/admin/monitor/feed  this instance's figures (feed.ts) as JSON text messages: `hello` (the
 *                                chart history), then a `sample` every second. The token is checked at
 *                                the upgrade, before any socket exists (401 / 403 otherwise): from
 *                                `Authorization: Bearer TOKEN`, or from the subprotocol
 *                                `bearer.<base64url(TOKEN)>` offered next to `tickwire-monitor` (a
 *                                browser's WebSocket cannot send headers); the answer names only
 *                                `tickwire-monitor`
 *
 * The page opens one feed per instance, each at that instance's public URL, so each
 * instance serves its own figures. A WebSocket rather than server-sent events: a browser
 * holds at most 6 HTTP/1.1 connections to one host, and every instance's feed goes
 * through the one nginx front, so 6 instances' event streams would leave the page no
 * connection for its own requests; WebSockets are not counted in that pool.
 */
import type uWS from 'uWebSockets.js';
import { bearerOf, isAdminToken } from '../admin.ts';
import type { Config } from '../config.ts';
import { send } from '../http.ts';
import type { MonitorFeed } from './feed.ts';
import { gatePage, monitorPage } from './page.ts';

const TOPIC = 'monitor';
export const FEED_PROTOCOL = 'tickwire-monitor';
const HTML = 'text/html; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

/** What the page's script offers as a subprotocol to carry the token. */
export const tokenProtocol = (token: string): string => `bearer.${Buffer.from(token).toString('base64url')}`;

export interface MonitorDeps {
  cfg: Config;
  feed: MonitorFeed;
}

export interface Monitor {
  /** One sample (main.ts's timer, every second): kept, and sent to every open feed. */
  tick(): Promise<void>;
  /** Closes the open feeds (server shutdown). */
  close(): void;
}

/** The token a feed's upgrade carries: in a `bearer.` subprotocol, else in the Authorization header. */
function feedToken(protocols: string[], authorization: string): string {
  const offered = protocols.find((p) => p.startsWith('bearer.'));
  return offered ? Buffer.from(offered.slice('bearer.'.length), 'base64url').toString('utf8') : bearerOf(authorization);
}

export function mountMonitor(app: uWS.TemplatedApp, d: MonitorDeps): Monitor {
  let page: string | null = null; // built at the first request that may see it
  const sockets = new Set<uWS.WebSocket<object>>();
  let closed = false;

  app.get('/monitor', (res, req) => {
    const header = req.getHeader('authorization');
    if (d.cfg.adminToken === '') {
      return send(res, '403 Forbidden', HTML, gatePage('The admin API is off: set ADMIN_TOKEN on the server to use the monitor.', false));
    }
    if (!isAdminToken(d.cfg, bearerOf(header))) {
      const why = header ? 'That is not the admin token.' : 'This page needs the admin token.';
      return send(res, '401 Unauthorized', HTML, gatePage(why, true), [['www-authenticate', 'Bearer realm="tickwire admin"']]);
    }
    page ??= monitorPage();
    send(res, '200 OK', HTML, page);
  });

  app.ws<object>('/api/admin/monitor/feed', {
    maxPayloadLength: 1024, // the page sends nothing
    idleTimeout: 30,
    sendPingsAutomatically: true,
    maxBackpressure: 1 << 20, // a monitor that stops reading loses samples, not the server's memory
    closeOnBackpressureLimit: 0,
    upgrade: (res, req, context) => {
      const protocols = req.getHeader('sec-websocket-protocol').split(',').map((p) => p.trim()).filter(Boolean);
      const key = req.getHeader('sec-websocket-key');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (d.cfg.adminToken === '') return send(res, '403 Forbidden', TEXT, 'the admin API is off: set ADMIN_TOKEN on the server');
      if (!isAdminToken(d.cfg, feedToken(protocols, req.getHeader('authorization')))) {
        return send(res, '401 Unauthorized', TEXT, 'admin token missing or wrong: send Authorization: Bearer ADMIN_TOKEN, or offer the subprotocol '
          + 'bearer.<base64url(ADMIN_TOKEN)>');
      }
      res.upgrade({}, key, protocols.includes(FEED_PROTOCOL) ? FEED_PROTOCOL : '', extensions, context);
    },
    open: (ws) => {
      if (closed) return ws.end(1001, 'server shutting down');
      sockets.add(ws);
      ws.subscribe(TOPIC);
      ws.send(JSON.stringify(d.feed.hello()), false);
    },
    close: (ws) => {
      sockets.delete(ws);
    },
  });

  return {
    async tick() {
      const s = await d.feed.sample(!closed && app.numSubscribers(TOPIC) > 0);
      if (s && !closed) app.publish(TOPIC, JSON.stringify(s), false);
    },
    close() {
      closed = true;
      for (const ws of [...sockets]) ws.end(1001, 'server shutting down');
      sockets.clear();
    },
  };
}
