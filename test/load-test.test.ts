/**
 * Smoke test of the bot swarm against the real server: 50 bots in 4 rooms for 4 s
 * on one worker thread. Every bot must connect, decode and checksum every snapshot
 * at the tick rate, and the JSON report must carry every documented field.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { endpoint, httpCall, tlsHint } from '../load-test/endpoint.ts';
import { checkLoopback, LIMITS, parseCli, resolveOptions, roomCode } from '../load-test/options.ts';
import { runLoadTest } from '../load-test/run.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';

const REPORT_NUMBERS = [
  'bots.requested', 'bots.connected', 'bots.failed', 'bots.disconnected', 'bots.resumed', 'duration_s',
  'rtt_ms.p50', 'rtt_ms.p95', 'rtt_ms.p99', 'rtt_ms.max', 'snapshot_interval_ms.p50', 'snapshot_interval_ms.p99',
  'snapshot_interval_ms.max', 'bytes_in_per_bot_s', 'bytes_out_per_bot_s', 'snapshots_per_bot_s', 'desyncs',
  'decode_errors', 'server.tick_ms.p50', 'server.tick_ms.p99', 'server.tick_ms.max', 'server.ticks_overrun',
  'server.cpu_s_per_s', 'server.rss_mb', 'server.snapshots_skipped', 'server.snapshots_shared', 'server.input_ack_ms.p50',
  'server.input_ack_ms.p99', 'bot_cpu_s_per_s', 'window_s.from', 'window_s.to',
];

const at = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);

describe('load test', () => {
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    server = await startServer(loadConfig({}, { host: '127.0.0.1', port: 0, secret: 'load-test-secret', npcCount: 0, staticDir: '/nonexistent' }));
    dir = mkdtempSync(join(tmpdir(), 'tickwire-lt-'));
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses non-loopback targets and names rooms LT + letters', () => {
    expect(() => checkLoopback('ws://example.com:8080/ws')).toThrow(/only targets loopback/);
    expect(() => checkLoopback('ws://10.0.0.1/ws')).toThrow(/only targets loopback/);
    expect(checkLoopback('ws://[::1]:8080/ws').port).toBe('8080');
    expect([roomCode(0), roomCode(1), roomCode(27), roomCode(17575)]).toEqual(['LTAAA', 'LTAAB', 'LTABB', 'LTZZZ']);
  });

  it('plays the arena unless --game names another game it knows (a bot policy in games.ts)', () => {
    expect(parseCli(['--url', 'ws://127.0.0.1:8080/ws']).game).toBe('arena');
    expect(() => parseCli(['--url', 'ws://127.0.0.1:8080/ws', '--game', 'soccer'])).toThrow('--game must be one of arena, got soccer');
  });

  it('takes --ca for wss:// only, and names the fix for a TLS failure', () => {
    expect(parseCli(['--url', 'wss://localhost:8443/ws', '--ca', 'c.pem']).ca).toBe('c.pem');
    expect(() => parseCli(['--url', 'ws://127.0.0.1:8080/ws', '--ca', 'c.pem'])).toThrow(/--ca applies to wss:\/\/ only/);
    const fail = (code: string, message = code) => Object.assign(new Error(message), { code });
    const ip = endpoint('wss://127.0.0.1:8443/ws');
    const named = endpoint('wss://localhost:8443/ws', 'PEM');
    expect(tlsHint(ip, fail('DEPTH_ZERO_SELF_SIGNED_CERT'))).toMatch(/--ca FILE/);
    expect(tlsHint(named, fail('DEPTH_ZERO_SELF_SIGNED_CERT'))).toMatch(/--ca file holds neither/);
    expect(tlsHint(named, fail('CERT_HAS_EXPIRED'))).toMatch(/validity dates/);
    expect(tlsHint(ip, fail('ERR_TLS_CERT_ALTNAME_INVALID'))).toMatch(/subjectAltName=IP:127\.0\.0\.1/);
    expect(tlsHint(named, fail('ERR_TLS_CERT_ALTNAME_INVALID'))).toMatch(/subjectAltName=DNS:localhost/);
    expect(tlsHint(ip, fail('EPROTO'))).toMatch(/serving TLS/);
    expect(tlsHint(endpoint('ws://127.0.0.1:8080/ws'), fail('ECONNRESET', 'socket hang up'))).toMatch(/use wss:/);
    expect(tlsHint(ip, fail('ECONNREFUSED'))).toBe('');
  });

  it('gives an HTTP call one deadline for the whole answer, not an idle timer', async () => {
    // A server that answers a byte every 50 ms: never idle for long, never done.
    const trickle = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', r));
    const { port } = trickle.address() as AddressInfo;
    try {
      const t0 = performance.now();
      await expect(httpCall(endpoint(`ws://127.0.0.1:${port}/ws`), '/healthz', { timeoutMs: 300 })).rejects.toThrow(/no whole answer within 300 ms/);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      trickle.closeAllConnections();
      await new Promise((r) => trickle.close(r));
    }
  });

  it('refuses a ramp slower than the duration cap', () => {
    const url = 'ws://127.0.0.1:8080/ws';
    expect(() => parseCli(['--url', url, '--bots', '10000', '--ramp', '0.001'])).toThrow(/ramp must finish within 3600 s/);
    expect(() => resolveOptions({ url, bots: LIMITS.maxBots, rampPerS: LIMITS.maxBots / LIMITS.maxDurationS * 0.99 })).toThrow(/--ramp/);
    expect(resolveOptions({ url, bots: LIMITS.maxBots, rampPerS: LIMITS.maxBots / LIMITS.maxDurationS }).rampPerS).toBeGreaterThan(0);
    expect(resolveOptions({ url, bots: LIMITS.maxBots, rampPerS: 0 }).rampPerS).toBe(0);
  });

  it('50 bots in 4 rooms: all connect, no desyncs, snapshots at the tick rate, full report', async () => {
    const json = join(dir, 'report.json');
    const report = await runLoadTest({
      url: `ws://127.0.0.1:${server.port}/ws`, bots: 50, rooms: 4, durationS: 4, workers: 1, rampPerS: 0,
      progress: false, json, html: join(dir, 'report.html'),
    });
    expect(report.bots.connected).toBe(50);
    expect(report.bots.failed).toBe(0);
    expect(report.desyncs).toBe(0);
    expect(report.decode_errors).toBe(0);
    const rate = server.config.tickRate;
    expect(report.snapshots_per_bot_s).toBeGreaterThan(rate * 0.9);
    expect(report.snapshots_per_bot_s).toBeLessThan(rate * 1.1);
    // Bots ack what they apply, so all but their first snapshots come from the room's one publish a tick.
    expect(report.server.snapshots_shared).toBeGreaterThan(0.9);

    const written = JSON.parse(readFileSync(json, 'utf8'));
    for (const path of REPORT_NUMBERS) {
      expect(typeof at(written, path), path).toBe('number');
      expect(Number.isFinite(at(written, path)), path).toBe(true);
    }
    // The window the figures cover sits on the charts' time axis, after the ramp, and is shaded in them.
    expect(written.window_s.to - written.window_s.from).toBeCloseTo(written.duration_s, 1);
    expect(written.window_s.from).toBeGreaterThanOrEqual(1); // after the ramp and the run's 1 s settle
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/<svg[^>]*aria-label="Round-trip time"/);
    expect(html.match(/<rect [^>]*fill="#eef2ff"/g)).toHaveLength(4);
  }, 20_000);
});
