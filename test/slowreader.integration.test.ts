/**
 * A client that stops reading, against the real server: it is skipped, then past
 * SLOW_READER_S closed with CLOSE_TOO_SLOW (its seat kept), and when it reads again it
 * finds the close, reconnects with its token and resumes the same seat. The server's
 * memory stays within a stated bound while the client holds it up.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_TOO_SLOW } from '../netcode/protocol.ts';
import { type Instance, startInstance } from '../server/deploy/instance.ts';
import { getJson } from '../server/deploy/procs.ts';
import { getToken, TestClient } from './helpers/net.ts';

let srv: Instance;
let base: string;

interface Health { rss_mb: number; snapshots_skipped: number; slow_readers_closed: number; clients: number }
const health = async (): Promise<Health> => (await getJson<Health>(`${base}/healthz`)) as Health;

beforeAll(async () => {
  // Its own process, so that its memory is its own. Many drones at a high rate fill the socket buffers in a second or two.
  srv = await startInstance({
    id: 'slow', env: { SECRET: 's', NPC_COUNT: '5000', TICK_RATE: '60', BACKPRESSURE_BYTES: '4096', SLOW_READER_S: '1.5', STATE_FILE: '', REDIS_URL: '' },
  });
  base = srv.http;
});
afterAll(async () => { await srv?.proc.stop('SIGKILL'); });

/** Polls the server's /healthz until `pred` holds. */
async function serverSays(pred: (h: Health) => boolean, what: string, ms = 15_000): Promise<Health> {
  const until = Date.now() + ms;
  for (;;) {
    const h = await health();
    if (h && pred(h)) return h;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Acks once per burst of messages, as a client acks once per tick. */
function acking(c: TestClient): TestClient {
  let queued = false;
  c.ws.on('message', () => {
    if (queued) return;
    queued = true;
    setImmediate(() => { queued = false; c.send(c.net.ack()); });
  });
  return c;
}

describe('a client that never reads', () => {
  it('is skipped, closed with CLOSE_TOO_SLOW after SLOW_READER_S, and resumes its seat once it reads again; memory stays bounded', async () => {
    const token = await getToken(base, 'Sloth');
    const url = `ws://127.0.0.1:${srv.port}/ws?room=SLOTH&token=${encodeURIComponent(token)}`;
    const slow = acking(new TestClient(url));
    const fast = acking(new TestClient(`ws://127.0.0.1:${srv.port}/ws?room=SLOTH&token=${encodeURIComponent(await getToken(base, 'Hare'))}`));
    await slow.until(() => slow.snapshots.length >= 5, 5000, 'first snapshots');
    await fast.until(() => fast.snapshots.length >= 60, 5000, 'a second of play');
    const id = slow.net.playerId;
    const rss0 = (await health()).rss_mb;
    const tcp = (slow.ws as unknown as { _socket: Socket })._socket;
    tcp.pause();
    await serverSays((h) => h.snapshots_skipped >= 10, 'the server to skip the slow client');
    const closed = await serverSays((h) => h.slow_readers_closed === 1, 'the server to close the slow client', 10_000);
    expect(closed.clients).toBe(1); // the slow one is gone; its seat waits (checked by the resume below)
    // While it held the server up, the fast one kept playing, and the server's memory grew by less than the bound.
    const before = fast.snapshots.length;
    await fast.until(() => fast.snapshots.length >= before + 30, 5000, 'the fast client to keep getting snapshots');
    // MB: a socket holds at most maxBackpressure (~1.25 MB here), the kernel's buffers are not the process's.
    expect((await health()).rss_mb - rss0).toBeLessThan(32);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^tickwire_slow_readers_closed_total 1$/m);

    tcp.resume(); // reads what was buffered, then the close frame
    await slow.until(() => slow.closed, 10_000, 'the slow client to see its close');
    expect(slow.closed).toMatchObject({ code: CLOSE_TOO_SLOW });
    expect(slow.closed?.reason).toMatch(/^connection too slow: \d+ snapshots skipped in a row \(1\.5 s\)$/);
    expect(slow.net.stats.desyncs).toBe(0);

    // It comes back with the same token: the same seat.
    const again = acking(new TestClient(url));
    again.net.ackTick = 0;
    await again.until(() => again.events.some((e) => e.kind === 'welcome') && again.snapshots.length > 0, 5000, 'the resume');
    expect(again.events.find((e) => e.kind === 'welcome')).toMatchObject({ resumed: true, playerId: id });
    expect(again.net.stats.desyncs).toBe(0);
    for (const c of [again, fast]) c.ws.close();
  }, 40_000);
});
