import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { loadConfig } from '../server/config.ts';
import { runLoadTest } from '../load-test/run.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { haveBinaries } from './helpers/binaries.ts';

let srv: RunningServer;
let cert: string;
const enabled = haveBinaries('openssl'); // makes the throwaway certificate

beforeAll(async () => {
  if (!enabled) return;
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-tls-'));
  cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // Names 127.0.0.1 as an IP address: a client that verifies checks an IP against those, not the CN.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 's', tlsCert: cert, tlsKey: key, npcCount: 2 }));
});
afterAll(async () => { await srv?.close(); });

const post = (path: string, body: string) => new Promise<string>((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port: srv.port, path, method: 'POST', rejectUnauthorized: false }, (res) => {
    let text = '';
    res.on('data', (c) => { text += c; });
    res.on('end', () => resolve(text));
  });
  req.on('error', reject);
  req.end(body);
});

describe.skipIf(!enabled)('TLS (https + wss)', () => {
  it('serves the API over https and the game socket over wss', async () => {
    expect(srv.url.startsWith('https://')).toBe(true);
    const { token } = JSON.parse(await post('/api/session', '{"name":"Sec"}'));
    const net = new NetClient(ARENA_SCHEMA);
    const ws = new WebSocket(`wss://127.0.0.1:${srv.port}/ws?room=TLSOK&token=${token}`, { rejectUnauthorized: false });
    const snapshots = await new Promise<number>((resolve, reject) => {
      let n = 0;
      ws.on('open', () => ws.send(net.hello()));
      ws.on('message', (d: Buffer) => {
        if (net.receive(new Uint8Array(d), 0).kind === 'snapshot' && ++n === 3) resolve(n);
      });
      ws.on('error', reject);
    });
    expect(snapshots).toBe(3);
    expect(net.stats.desyncs).toBe(0);
    ws.close();
  });

  it('load-tests over wss:// with the certificate given by --ca, and says why without it', async () => {
    const url = `wss://127.0.0.1:${srv.port}/ws`;
    await expect(runLoadTest({ url, bots: 2, rooms: 1, durationS: 1, workers: 1, progress: false })).rejects.toThrow(/self-signed.*--ca FILE/);
    // By host name too: the name goes as SNI and is checked against the certificate's DNS name.
    for (const host of ['127.0.0.1', 'localhost']) {
      const report = await runLoadTest({ url: `wss://${host}:${srv.port}/ws`, ca: cert, bots: 12, rooms: 2, durationS: 2, workers: 1, rampPerS: 0, progress: false });
      expect(report.bots.connected, host).toBe(12);
      expect(report.bots.failed, host).toBe(0);
      expect(report.desyncs, host).toBe(0);
      expect(report.decode_errors, host).toBe(0);
      expect(report.snapshots_per_bot_s, host).toBeGreaterThan(srv.config.tickRate * 0.9);
      expect(report.rtt_ms.p50, host).toBeGreaterThan(0); // the bots' PONGs came back over TLS
      expect(report.probe_rtt_ms?.p50, host).toBeGreaterThan(0); // and the RTT probe's
      expect(report.series.some((p) => p.tick_p99_ms > 0), host).toBe(true); // the /healthz poller read the server
    }
  }, 30_000);
});
