import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { getToken, TestClient } from './helpers/net.ts';

let srv: RunningServer;
let base: string;

beforeAll(async () => {
  // Many drones at a high rate make snapshots big enough to fill the kernel's socket buffers (MBs) in seconds.
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 's', npcCount: 5000, tickRate: 60, backpressureBytes: 4096 }));
  base = `http://127.0.0.1:${srv.port}`;
});
afterAll(async () => { await srv?.close(); });

describe('slow client over the real server', () => {
  it('is skipped while its socket is backed up, then catches up without a desync', async () => {
    const url = (t: string) => `ws://127.0.0.1:${srv.port}/ws?room=SLOWS&token=${t}`;
    const slow = new TestClient(url(await getToken(base, 'Slow')));
    const fast = new TestClient(url(await getToken(base, 'Fast')));
    // Both ack what they applied once per burst of messages, as a client acks once per tick
    // (an ack per message after a stall would trip the message rate limit).
    for (const c of [slow, fast]) {
      let queued = false;
      c.ws.on('message', () => {
        if (queued) return;
        queued = true;
        setImmediate(() => { queued = false; c.send(c.net.ack()); });
      });
    }
    await slow.until(() => slow.snapshots.length >= 5, 5000, 'first snapshots');
    const tcp = (slow.ws as unknown as { _socket: Socket })._socket;
    tcp.pause(); // stop reading: the kernel buffers fill, then uWS's
    const room = () => srv.manager.get('SLOWS');
    await fast.until(() => (room()?.snapshotCounts.skipped ?? 0) >= 10, 15000, 'the server to skip the slow client');
    const fastBefore = fast.snapshots.length;
    await fast.until(() => fast.snapshots.length >= fastBefore + 10, 5000, 'the fast client to keep getting snapshots');
    const seen = slow.snapshots.length;
    tcp.resume();
    const tickNow = room()?.tick ?? 0;
    await slow.until(() => slow.net.serverTick >= tickNow + 5, 10000, 'the slow client to catch up');
    expect(slow.snapshots.length).toBeGreaterThan(seen);
    expect(slow.net.stats.desyncs).toBe(0);
    expect(slow.net.stats.decodeErrors).toBe(0);
    expect(fast.net.stats.desyncs).toBe(0);
    slow.close();
    fast.close();
  });
});
