/**
 * The bot swarm over Server-Sent Events + POST (--transport sse) against the real server
 * (server/sse.ts): a room filled to MAX_PLAYERS_PER_ROOM by bots, plus spectators
 * (--spectators) that the full room still admits. Every bot connects, nothing desyncs,
 * and the spectators get snapshots without a seat. Then the same over the WebSocket, for
 * the spectators' ws path and the transport line of the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli, USAGE } from '../load-test/options.ts';
import { formatReport } from '../load-test/report.ts';
import { runLoadTest } from '../load-test/run.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';

const ROOM_SIZE = 4;

describe('load test over SSE', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(loadConfig({}, {
      host: '127.0.0.1', port: 0, secret: 'load-test-sse-secret', npcCount: 0, staticDir: '/nonexistent', maxPlayersPerRoom: ROOM_SIZE,
    }));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('takes --transport ws|sse and --spectators N, and lists them in --help', () => {
    const url = 'ws://127.0.0.1:8080/ws';
    expect(parseCli(['--url', url]).transport).toBe('ws');
    expect(parseCli(['--url', url, '--transport', 'sse', '--spectators', '3'])).toMatchObject({ transport: 'sse', spectators: 3 });
    expect(() => parseCli(['--url', url, '--transport', 'tcp'])).toThrow(/--transport must be one of ws\|sse/);
    expect(() => parseCli(['--url', url, '--spectators', '-1'])).toThrow(/--spectators/);
    expect(() => parseCli(['--url', 'wss://localhost:8443/ws', '--ca', 'c.pem', '--transport', 'sse'])).toThrow(/NODE_EXTRA_CA_CERTS/);
    expect(USAGE).toMatch(/--transport ws\|sse/);
    expect(USAGE).toMatch(/--spectators N/);
  });

  for (const transport of ['sse', 'ws'] as const) {
    it(`${ROOM_SIZE} bots fill a room over ${transport}; spectators are admitted beside them and get snapshots; no desyncs`, async () => {
      const report = await runLoadTest({
        url: `ws://127.0.0.1:${server.port}/ws`, transport, bots: ROOM_SIZE, rooms: 1, spectators: 3, durationS: 4, workers: 1, rampPerS: 0,
        progress: false,
      });
      expect(report.transport).toBe(transport);
      expect(report.bots).toMatchObject({ requested: ROOM_SIZE, connected: ROOM_SIZE, failed: 0, disconnected: 0 });
      expect(report.desyncs).toBe(0);
      expect(report.decode_errors).toBe(0);
      const rate = server.config.tickRate;
      expect(report.snapshots_per_bot_s).toBeGreaterThan(rate * 0.9);
      expect(report.rtt_ms.p50).toBeGreaterThan(0); // PINGs went up and PONGs came down
      expect(report.probe_rtt_ms?.p50).toBeGreaterThan(0);
      const s = report.spectators!;
      expect(s).toMatchObject({ requested: 3, connected: 3, failed: 0, desyncs: 0, decode_errors: 0, errors: 0 });
      expect(s.snapshots).toBeGreaterThan(0);
      expect(s.snapshots_per_s).toBeGreaterThan(rate * 0.8);
      expect(report.error_kinds).toEqual([]);
      const table = formatReport(report);
      expect(table).toMatch(new RegExp(`^transport +${transport} `, 'm'));
      expect(table).toMatch(/^spectators +3\/3 connected, 0 failed, .* 0 desyncs/m);
    }, 30_000);
  }
});
