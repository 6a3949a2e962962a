/**
 * The bot swarm against a cluster. First the pieces: the redirect rule, Redis's command
 * counts, the report in both modes, and a bot's redirect handling against a scripted
 * server (a dead target, a target off loopback, a loop, a resume to the owner). Then real
 * parts: a 2-instance cluster (redis-server, two instance processes, nginx) and 40 bots
 * in 4 rooms through the front for 3 s with --redis, and a short join benchmark.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodeServer } from '../netcode/codec.ts';
import { CLOSE_REDIRECT, PROTOCOL_VERSION, S_REDIRECT, S_WELCOME } from '../netcode/protocol.ts';
import { Bot, type BotContext } from '../load-test/bot.ts';
import { type Counters, zeroCounters } from '../load-test/counters.ts';
import { endpoint } from '../load-test/endpoint.ts';
import type { Healthz } from '../load-test/healthz.ts';
import { Histogram } from '../load-test/histogram.ts';
import { combineHealthz } from '../load-test/instances.ts';
import { runJoinBench } from '../load-test/join-bench.ts';
import { checkRedisUrl, resolveOptions } from '../load-test/options.ts';
import { MAX_REDIRECTS, redirectTarget } from '../load-test/redirect.ts';
import { ownBetween, parseCommandStats, redisFigures } from '../load-test/redis-stats.ts';
import { buildReport, formatReport, type ReportInput } from '../load-test/report.ts';
import { runLoadTest } from '../load-test/run.ts';
import type { Mark } from '../load-test/swarm.ts';
import { ARENA_POLICY } from '../load-test/arena.ts';
import type { BotSocket } from '../load-test/transport.ts';
import { type RunningCluster, startCluster } from '../server/deploy/cluster.ts';
import { haveBinaries } from './helpers/binaries.ts';

const health = (over: Partial<Healthz>): Healthz => ({
  rooms: 1, clients: 10, tick_rate: 30, ticks: 100, tick_ms: { p50: 0.2, p99: 1, max: 2 }, ticks_overrun: 0, ticks_dropped: 0,
  snapshots_skipped: 0, snapshots_sent: 100, snapshots_shared: 90, input_ack_ms: { p50: 20, p99: 30, max: 40 }, cpu_s: 1, rss_mb: 80,
  ...over,
});
const mark = (at: number, instances: Record<string, number>): Mark => ({
  at, counters: zeroCounters(), rtt: new Histogram(), interval: new Histogram(), cpu: { user: 0, system: 0 }, elu: [0], instances,
});
const reportInput = (over: Partial<ReportInput>): ReportInput => ({
  scenario: 'move', url: 'ws://127.0.0.1:1/ws', requested: 10, workers: 1, start: mark(0, {}), end: mark(2000, {}), final: zeroCounters(),
  h0: health({}), h1: health({ cpu_s: 2 }), avgLive: 10, errorKinds: [], series: [], seriesT0: 0, ...over,
});

describe('load test against a cluster: the pieces', () => {
  it('follows a REDIRECT only to a loopback ws(s):// endpoint without a query, and reads --redis on loopback only', () => {
    expect(redirectTarget('ws://127.0.0.1:8080/i/b/ws')).toBe('ws://127.0.0.1:8080/i/b/ws');
    expect(() => redirectTarget('ws://10.0.0.2:8080/i/b/ws')).toThrow(/only target loopback/);
    expect(() => redirectTarget('ws://game.example.com/i/b/ws')).toThrow(/only target loopback/);
    expect(() => redirectTarget('ws://127.0.0.1:8080/ws?room=X')).toThrow(/query/);
    expect(() => checkRedisUrl('redis://10.0.0.3:6379')).toThrow(/only reads a Redis on loopback/);
    expect(() => resolveOptions({ url: 'ws://127.0.0.1:8080/ws', redis: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\//);
    expect(resolveOptions({ url: 'ws://127.0.0.1:8080/ws', redis: 'redis://127.0.0.1:6379' }).redis).toBe('redis://127.0.0.1:6379');
  });

  it('counts Redis commands per second over the window, our own INFO taken out', () => {
    const a = parseCommandStats('# Commandstats\r\ncmdstat_set:calls=10,usec=5,usec_per_call=0.5\r\ncmdstat_info:calls=3,usec=1\r\n');
    const b = parseCommandStats('# Commandstats\r\ncmdstat_set:calls=14,usec=7\r\ncmdstat_info:calls=4,usec=1\r\ncmdstat_client|setname:calls=2,usec=1\r\n');
    expect(a.get('set')).toBe(10);
    const f = redisFigures(a, b, 2, ownBetween(false), 2, 100);
    expect(f.by_command).toEqual({ set: 2, 'client|setname': 1 }); // the one INFO in between was ours
    expect(f.commands_per_s).toBe(3);
    expect(f.budget_per_s).toBe(5); // 2 × 2 instances + 0.01 × 100 players
  });

  it('reports a standalone run as before, with empty cluster fields, and a cluster as the sum and worst of its instances', () => {
    const solo = buildReport(reportInput({}));
    expect(solo.cluster).toEqual({ enabled: false, instances: [], missing: [], redis: null });
    expect(solo.bots.per_instance).toEqual({});
    expect(solo.server.cpu_s_per_s).toBe(0.5);
    expect(formatReport(solo)).not.toMatch(/redirects|instance|redis/);

    const start = new Map([['a', health({ cpu_s: 1 })], ['b', health({ cpu_s: 3, snapshots_skipped: 1 })]]);
    const end = new Map([['a', health({ cpu_s: 2, tick_ms: { p50: 0.3, p99: 4, max: 9 } })], ['b', health({ cpu_s: 5, snapshots_skipped: 4 })]]);
    const r = buildReport(reportInput({ end: mark(2000, { a: 6, b: 4 }), cluster: { start, end } }));
    expect(r.bots.per_instance).toEqual({ a: 6, b: 4 });
    expect(r.cluster.instances.map((i) => [i.id, i.bots, i.cpu_s_per_s, i.snapshots_skipped])).toEqual([['a', 6, 0.5, 0], ['b', 4, 1, 3]]);
    expect(r.server.cpu_s_per_s).toBe(1.5); // (2 + 5 − 1 − 3) / 2 s
    expect(r.server.snapshots_skipped).toBe(3);
    expect(r.server.tick_ms.p99).toBe(4); // the worst instance's
    expect(r.server.rss_mb).toBe(160);
    expect(combineHealthz([health({}), health({})]).clients).toBe(20);
    expect(formatReport(r)).toMatch(/instance a +6 bots/);
  });
});

/** A scripted server: POST /api/session and a WebSocket door that answers each connection as `script` says. */
async function fakeServer(script: (n: number, path: string) => { redirect: string } | 'welcome') {
  const paths: string[] = [];
  const http: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ token: 'tok' })));
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws: WebSocket, req) => {
    const path = (req.url ?? '').split('?')[0];
    paths.push(path);
    const step = script(paths.length, path);
    if (step === 'welcome') {
      ws.once('message', () => ws.send(encodeServer({
        type: S_WELCOME, version: PROTOCOL_VERSION, playerId: 1, tickRate: 30, serverTick: 1, room: 'LTAAA', roster: [],
        resumed: false, lastSeq: 0, instance: path.startsWith('/owner') ? 'owner' : 'front', watchers: 0,
      })));
    } else {
      ws.send(encodeServer({ type: S_REDIRECT, url: step.redirect, instance: 'owner', reason: 'room LTAAA lives on instance owner' }));
      ws.close(CLOSE_REDIRECT, 'room LTAAA lives on instance owner');
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    port, paths,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

/** A closed port on loopback: listen, note it, stop. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('a bot follows REDIRECTs', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  /** A bot on its own timer step against `port`; resolves once `until` holds (checked each step), or fails after 8 s. */
  async function runBot(port: number, until: (c: Counters, bot: Bot) => boolean, churnPerS = 0) {
    const notes = new Map<string, number>();
    const ctx: BotContext = {
      policy: ARENA_POLICY, endpoint: endpoint(`ws://127.0.0.1:${port}/ws`), scenario: 'move', churnPerS, chatEveryMs: 0, now: () => performance.now(),
      counters: zeroCounters(), rtt: new Histogram(), interval: new Histogram(), movePause: new Histogram(), moveResume: new Histogram(),
      note: (e) => notes.set(e, (notes.get(e) ?? 0) + 1), defer: (b, from, data, at) => b.deferred(from, data, at),
    };
    const bot = new Bot(0, 'LTAAA', 1, ctx);
    const timer = setInterval(() => bot.update(performance.now()), 5);
    cleanup.push(() => { clearInterval(timer); bot.stop(); });
    await bot.start();
    await new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const check = setInterval(() => {
        if (until(ctx.counters, bot)) resolve();
        else if (performance.now() - t0 > 8000) reject(new Error(`timed out; counters ${JSON.stringify(ctx.counters)}; notes ${[...notes.keys()]}`));
        else return;
        clearInterval(check);
      }, 5);
    });
    return { ctx, bot, notes: [...notes.keys()].join(' | ') };
  }

  it('drops a redirect target that refuses and rejoins through --url', async () => {
    const dead = await deadPort();
    const s = await fakeServer((n) => (n === 1 ? { redirect: `ws://127.0.0.1:${dead}/ws` } : 'welcome'));
    cleanup.push(s.close);
    const { ctx, notes } = await runBot(s.port, (c) => c.live === 1);
    expect(ctx.counters).toMatchObject({ redirects: 1, connected: 1, failed: 0, disconnected: 0, errors: 1 });
    expect(notes).toMatch(/redirect target: closed before WELCOME/);
    expect(s.paths).toEqual(['/ws', '/ws']);
  });

  it('never follows a REDIRECT off loopback', async () => {
    const s = await fakeServer(() => ({ redirect: 'ws://10.9.8.7:8080/i/b/ws' }));
    cleanup.push(s.close);
    const { ctx, notes } = await runBot(s.port, (c) => c.failed === 1);
    expect(ctx.counters.redirects).toBe(0);
    expect(notes).toMatch(/not followed: .*only target loopback/);
    expect(s.paths).toEqual(['/ws']);
  });

  it(`stops a loop after ${MAX_REDIRECTS} REDIRECTs in a row and backs off`, async () => {
    const s = await fakeServer((_n, path) => ({ redirect: `ws://127.0.0.1:${port}${path === '/ws' ? '/x' : '/ws'}` }));
    const port = s.port;
    cleanup.push(s.close);
    const { ctx, notes } = await runBot(s.port, (c) => c.errors === 1);
    expect(ctx.counters.redirects).toBe(MAX_REDIRECTS);
    expect(notes).toMatch(/REDIRECTs in a row without a WELCOME/);
    expect(s.paths).toHaveLength(MAX_REDIRECTS + 1); // and none more until the backoff (≥ 250 ms) is over
  });

  it('resumes straight at the owner it was redirected to', async () => {
    const s = await fakeServer((_n, path) => (path === '/ws' ? { redirect: `ws://127.0.0.1:${port}/owner/ws` } : 'welcome'));
    const port = s.port;
    cleanup.push(s.close);
    // Churn at 1000/s: the bot drops its socket at once after each WELCOME, and resumes 0.25-1 s later.
    // (Not "live again": at that churn a bot is live for a moment only, which a check can miss on a loaded machine.)
    const { ctx, bot } = await runBot(s.port, (c) => c.dropped >= 1 && s.paths.length >= 3, 1000);
    expect(bot.instance).toBe('owner');
    expect(ctx.counters.redirects).toBe(1);
    expect(s.paths.slice(0, 3)).toEqual(['/ws', '/owner/ws', '/owner/ws']);
  });

  it('drops a deferred WELCOME whose socket it has let go of, instead of going live without a socket', async () => {
    const s = await fakeServer(() => 'welcome');
    cleanup.push(s.close);
    const held: [BotSocket, Buffer, number][] = [];
    const ctx: BotContext = {
      policy: ARENA_POLICY, endpoint: endpoint(`ws://127.0.0.1:${s.port}/ws`), scenario: 'move', churnPerS: 0, chatEveryMs: 0, now: () => performance.now(),
      counters: zeroCounters(), rtt: new Histogram(), interval: new Histogram(), movePause: new Histogram(), moveResume: new Histogram(),
      note: () => {}, defer: (_b, from, data, at) => { held.push([from, data, at]); }, // an overloaded worker: nothing decoded yet
    };
    const bot = new Bot(0, 'LTAAA', 1, ctx);
    cleanup.push(() => bot.stop());
    await bot.start();
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (held.length > 0) { clearInterval(t); resolve(); } }, 5); });
    bot.stop(); // as when its WELCOME deadline passed: the socket is gone
    for (const [from, data, at] of held) bot.deferred(from, data, at);
    expect(bot.isLive).toBe(false);
    expect(ctx.counters.live).toBe(0);
    expect(() => bot.update(performance.now() + 1000)).not.toThrow();
  });
});

const enabled = haveBinaries('redis-server', 'nginx');

describe.skipIf(!enabled)('load test through the nginx front of a real 2-instance cluster', () => {
  let c: RunningCluster;
  let dir: string;
  const logs: string[] = [];

  beforeAll(async () => {
    c = await startCluster({ instances: 2, port: 0, log: (l) => logs.push(l) });
    dir = mkdtempSync(join(tmpdir(), 'tickwire-ltc-'));
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('40 bots in 4 rooms: all connect through redirects, spread over both instances, and Redis stays near the heartbeats', async () => {
    const json = join(dir, 'report.json');
    const report = await runLoadTest({
      url: `ws://127.0.0.1:${c.port}/ws`, bots: 40, rooms: 4, durationS: 3, workers: 1, rampPerS: 0, progress: false,
      redis: c.redis.url, json,
    });
    const why = JSON.stringify(report.error_kinds);
    expect(report.bots.connected, why).toBe(40);
    expect(report.bots.failed, why).toBe(0);
    expect(report.desyncs).toBe(0);
    const per = report.bots.per_instance;
    expect(Object.values(per).reduce((a, b) => a + b, 0)).toBe(40);
    expect(Object.keys(per).sort()).toEqual(['a', 'b']);
    expect(report.cluster.enabled).toBe(true);
    expect(report.cluster.instances.map((i) => i.id)).toEqual(['a', 'b']);
    for (const i of report.cluster.instances) {
      expect(i.bots).toBe(per[i.id]);
      expect(i.cpu_s_per_s).toBeGreaterThan(0);
    }
    // Round-robin nginx and 4 rooms over 2 instances: some joins land on the instance that does not own the room.
    expect(report.bots.redirects).toBeGreaterThan(0);
    const redis = report.cluster.redis!;
    expect(typeof redis.commands_per_s).toBe('number');
    expect(redis.commands_per_s).toBeGreaterThan(0);
    expect(redis.by_command.set).toBeGreaterThan(0); // each instance's heartbeat
    expect(redis.commands_per_s).toBeLessThanOrEqual(redis.budget_per_s);
    expect(JSON.parse(readFileSync(json, 'utf8')).cluster.redis.by_command.set).toBe(redis.by_command.set);
  }, 30_000);

  it('join-bench times direct and redirected joins', async () => {
    const r = await runJoinBench({ url: c.url, joins: 10 });
    expect(r.instances).toEqual(['a', 'b']);
    for (const q of [r.direct_ms, r.redirected_ms]) {
      expect(Number.isFinite(q.p99)).toBe(true);
      expect(q.p99).toBeGreaterThan(0);
    }
    expect(Number.isFinite(r.redirect_cost_p99_ms)).toBe(true);
    expect(r.unexpected).toBe(0);
  }, 20_000);
});
