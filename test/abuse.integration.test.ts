/**
 * Per-address limits against the real server, with the default settings. A script on its
 * own loopback address (127.0.0.66) floods session creation, room creation and WebSocket
 * upgrades and is answered 429 with Retry-After past each limit, while honest players on
 * 127.0.0.1 in the same server keep every snapshot, with 0 desyncs, and a newcomer among
 * them is not refused. Then the limits' pure rules on virtual time (test/iplimits below).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defaultConfig, loadConfig } from '../server/config.ts';
import { IpLimits, limitKey } from '../server/iplimits.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { ClusterClient, token } from './helpers/cluster-client.ts';

const ABUSER = '127.0.0.66';

/** POST `path` from local address `from`; resolves with the status and Retry-After. */
function post(port: number, path: string, body: string, from: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', localAddress: from, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A WebSocket upgrade from `from`; resolves with the HTTP status (101 when it opened). */
function upgrade(url: string, from: string, origin: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress: from, origin });
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0); });
    ws.on('open', () => { ws.terminate(); resolve(101); });
    ws.on('error', () => resolve(0));
  });
}

const count = (xs: number[], v: number) => xs.filter((x) => x === v).length;

describe('an abusive address against the default per-address limits', () => {
  let srv: RunningServer;
  const honest: ClusterClient[] = [];
  beforeAll(async () => {
    srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 'abuse-secret', npcCount: 8 }));
  });
  afterAll(async () => {
    for (const c of honest) c.close();
    await srv?.close();
  });

  it('floods sessions, rooms and upgrades from 127.0.0.66 and gets 429s, while honest players on 127.0.0.1 lose nothing', async () => {
    const cfg = defaultConfig();
    const base = srv.url;
    const ws = `ws://127.0.0.1:${srv.port}/ws`;
    for (let i = 0; i < 8; i++) honest.push(new ClusterClient(ws, 'HONES', await token(base, `h${i}`), base));
    await Promise.all(honest.map((c) => c.until(() => c.live && c.snapshots > 20, 'honest players playing', 8000)));
    const before = honest.map((c) => c.snapshots);

    const [sessions, rooms, upgrades] = await Promise.all([
      Promise.all(Array.from({ length: 150 }, () => post(srv.port, '/api/session', '{"name":"spam"}', ABUSER))),
      Promise.all(Array.from({ length: 60 }, () => post(srv.port, '/api/rooms', '', ABUSER))),
      Promise.all(Array.from({ length: 200 }, () => upgrade(`${ws}?room=FLOOD&token=forged`, ABUSER, base))),
    ]);
    // Each limit lets its burst through, then 429 with Retry-After, before any room or session is made.
    const ok = count(sessions.map((r) => r.status), 200);
    expect(ok).toBeGreaterThanOrEqual(cfg.ipSessionsPerMin);
    expect(ok).toBeLessThanOrEqual(cfg.ipSessionsPerMin + 3);
    expect(count(sessions.map((r) => r.status), 429)).toBe(150 - ok);
    expect(sessions.filter((r) => r.status === 429).every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    const made = count(rooms.map((r) => r.status), 200);
    expect(made).toBeGreaterThanOrEqual(cfg.ipRoomsPerMin);
    expect(made).toBeLessThanOrEqual(cfg.ipRoomsPerMin + 3);
    expect(count(rooms.map((r) => r.status), 429)).toBe(60 - made);
    const past = count(upgrades, 401); // forged tokens: refused by the token check once past the limit's check
    expect(past).toBeGreaterThanOrEqual(cfg.ipMaxSockets);
    expect(past).toBeLessThanOrEqual(cfg.ipMaxSockets + 20);
    expect(count(upgrades, 429)).toBe(200 - past);

    // Meanwhile, on 127.0.0.1: a newcomer gets its session and its seat...
    const late = new ClusterClient(ws, 'HONES', await token(base, 'late'), base);
    honest.push(late);
    await late.until(() => late.live && late.snapshots > 5, 'a newcomer on 127.0.0.1 joining during the flood', 5000);
    // ...and every honest player kept every snapshot.
    await Promise.all(honest.map((c, i) => c.until(() => c.snapshots > (before[i] ?? 0) + 30, 'snapshots after the flood', 5000)));
    for (const c of honest) {
      expect(c.missed).toBe(0);
      expect(c.net.stats.desyncs).toBe(0);
      expect(c.states.some((s) => s.state === 'reconnecting')).toBe(false);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`tickwire_ip_limited_total{limit="sessions"} ${150 - ok}`);
    expect(metrics).toContain(`tickwire_ip_limited_total{limit="rooms"} ${60 - made}`);
    expect(metrics).toContain(`tickwire_ip_limited_total{limit="upgrades"} ${200 - past}`);
    expect(metrics).toMatch(/tickwire_upgrades_rejected_total\{status="429"\} \d+/);
    process.stdout.write(`abuse run: sessions ${ok}/150 allowed, rooms ${made}/60, upgrades ${past}/200 past the limit; `
      + `${honest.length} honest players, 0 missed snapshots\n`);
  }, 40_000);
});

describe('the per-address limits (virtual time)', () => {
  const cfg = { ...defaultConfig(), ipSessionsPerMin: 6, ipRoomsPerMin: 2, ipUpgradesPerS: 2, ipMaxSockets: 3 };

  it('lets a burst through, then earns one back at the rate, with Retry-After to the next', () => {
    const l = new IpLimits(cfg);
    for (let i = 0; i < 6; i++) expect(l.session('10.0.0.1', 0)).toBeNull();
    expect(l.session('10.0.0.1', 0)).toEqual({ limit: 'sessions', retryAfterS: 10, reason: 'more than 6 new sessions a minute from your address' });
    expect(l.session('10.0.0.2', 0)).toBeNull(); // another address is not touched
    expect(l.session('10.0.0.1', 10_000)).toBeNull(); // one a minute / 6
    expect(l.session('10.0.0.1', 10_000)).not.toBeNull();
    expect(l.refused.sessions).toBe(2);
  });

  it('counts open sockets per address, and upgrades in bursts of IP_MAX_SOCKETS', () => {
    const l = new IpLimits(cfg);
    for (let i = 0; i < 3; i++) {
      expect(l.upgrade('10.0.0.1', 0)).toBeNull();
      l.opened('10.0.0.1');
    }
    expect(l.upgrade('10.0.0.1', 0)?.limit).toBe('sockets');
    l.closed('10.0.0.1');
    expect(l.upgrade('10.0.0.1', 0)?.limit).toBe('upgrades'); // the burst of 3 is spent
    expect(l.upgrade('10.0.0.1', 500)).toBeNull(); // 2 a second
  });

  it('groups IPv6 by /64, reads IPv4-mapped addresses as IPv4, and never limits IP_LIMIT_EXEMPT', () => {
    expect(limitKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(limitKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    const l = new IpLimits({ ...cfg, ipLimitExempt: ['127.0.0.0/8'] });
    for (let i = 0; i < 100; i++) expect(l.room('127.0.0.1', 0)).toBeNull();
    expect(l.room('2001:db8:1:2::1', 0)).toBeNull();
    expect(l.room('2001:db8:1:2::2', 0)).toBeNull();
    expect(l.room('2001:db8:1:2:ffff::9', 0)?.limit).toBe('rooms'); // the same /64
  });

  it('keeps its tables bounded whatever the number of addresses', () => {
    const l = new IpLimits(cfg);
    for (let i = 0; i < 120_000; i++) l.session(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i / 1000);
    expect(l.tracked).toBeLessThanOrEqual(50_000);
  });
});
