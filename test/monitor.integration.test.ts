/**
 * The monitor's figures on a real standalone server: the new /metrics lines are counted
 * where the bytes, refusals and HELLOs happen (bytes in and out equal to what one client
 * sent and received, to the byte), POST /api/admin/close closes a room, and the feed
 * reads the same registry as /metrics. Without ADMIN_TOKEN the page says the API is off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_BAD_MESSAGE, CLOSE_ROOM_CLOSED } from '../netcode/protocol.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import type { MonitorHello, MonitorSample } from '../server/monitor/feed.ts';
import { FEED_PROTOCOL } from '../server/monitor/routes.ts';
import { getToken, TestClient } from './helpers/net.ts';

const ADMIN = 'monitor-admin-token-0123456789';
let srv: RunningServer;
let base: string;
let wsBase: string;

beforeAll(async () => {
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', npcCount: 2, adminToken: ADMIN, stateFile: '' }));
  base = `http://127.0.0.1:${srv.port}`;
  wsBase = `ws://127.0.0.1:${srv.port}/ws`;
});
afterAll(async () => { await srv?.close(); });

async function metric(line: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (!found) throw new Error(`/metrics has no ${line}`);
  return Number(found.slice(line.length + 1));
}

const post = (path: string, body: unknown, auth = `Bearer ${ADMIN}`) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify(body) });

describe('the monitor\'s figures on a standalone server', () => {
  it('counts bytes in and out, refusals by reason and resumed HELLOs at their source', async () => {
    const tok = await getToken(base, 'Ada');
    const url = `${wsBase}?room=COUNT&token=${tok}`;
    const a = new TestClient(url, { autoHello: false });
    let sent = 0;
    let received = 0;
    a.ws.on('message', (d: Buffer) => { received += d.byteLength; });
    await new Promise((r) => a.ws.once('open', r));
    const hello = a.net.hello();
    sent += hello.byteLength;
    a.send(hello);
    await a.until(() => a.snapshots.length >= 3, 5000, 'snapshots');
    const garbage = new Uint8Array([0xc1, 0xff, 0x00]);
    sent += garbage.byteLength;
    a.send(garbage);
    await a.until(() => a.closed, 5000, 'closed for a bad message');
    expect(a.closed?.code).toBe(CLOSE_BAD_MESSAGE);
    // The only socket of this server so far: every byte each way is its.
    expect(await metric('tickwire_ws_bytes_in_total')).toBe(sent);
    expect(await metric('tickwire_ws_bytes_out_total')).toBe(received);
    expect(await metric('tickwire_messages_rejected_total{reason="bad_message"}')).toBe(1);
    expect(await metric('tickwire_joins_total{kind="new"}')).toBe(1);
    expect(await metric('tickwire_joins_total{kind="resumed"}')).toBe(0);

    // Back within the grace: a resumed seat. Then a text frame, refused as a bad message too.
    const b = new TestClient(url);
    await b.until(() => b.events.some((e) => e.kind === 'welcome' && e.resumed), 5000, 'resumed');
    expect(await metric('tickwire_joins_total{kind="resumed"}')).toBe(1);
    expect(await metric('tickwire_players')).toBe(1);
    b.ws.send('hello?');
    await b.until(() => b.closed, 5000, 'closed for a text frame');
    expect(await metric('tickwire_messages_rejected_total{reason="bad_message"}')).toBe(2);
    expect(await metric('tickwire_messages_rejected_total{reason="rate_limit"}')).toBe(0);
  });

  it('closes a room wherever it is (here), and answers 404 when nobody holds it', async () => {
    const c = new TestClient(`${wsBase}?room=SHUTS&token=${await getToken(base, 'Cy')}`);
    await c.until(() => c.net.playerId, 5000, 'welcome');
    expect((await post('/api/admin/close', { room: 'SHUTS' }, 'Bearer wrong-wrong-wrong-wrong')).status).toBe(401);
    expect((await post('/api/admin/close', { room: 'nope' })).status).toBe(400);
    const res = await post('/api/admin/close', { room: 'shuts', reason: 'maintenance' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ closed: [{ instance: srv.cluster.id, room: 'SHUTS', players: 1 }] });
    await c.until(() => c.closed, 5000, 'closed');
    expect(c.closed).toEqual({ code: CLOSE_ROOM_CLOSED, reason: 'maintenance' });
    expect(srv.manager.get('SHUTS')).toBeUndefined();
    expect(await metric('tickwire_rooms_closed_total')).toBe(1);
    expect((await post('/api/admin/close', { room: 'SHUTS' })).status).toBe(404);
  });

  it('feeds the same figures as /metrics over a WebSocket that needs the token', async () => {
    const feed = new WebSocket(`ws://127.0.0.1:${srv.port}/api/admin/monitor/feed`, [FEED_PROTOCOL], { headers: { authorization: `Bearer ${ADMIN}` } });
    const msgs: (MonitorHello | MonitorSample)[] = [];
    const two = new Promise<void>((resolve) => feed.on('message', (d) => { if (msgs.push(JSON.parse(String(d))) === 2) resolve(); }));
    await two;
    feed.close();
    expect(feed.protocol).toBe(FEED_PROTOCOL);
    const [hello, sample] = msgs as [MonitorHello, MonitorSample];
    expect(hello.type).toBe('hello');
    expect(hello.keys).toContain('tickwire_ws_bytes_out_total');
    expect(sample.type).toBe('sample');
    expect(sample.chart).toHaveLength(hello.keys.length + 1);
    // Nothing changes these between the sample and now.
    for (const line of ['tickwire_rooms_closed_total', 'tickwire_messages_rejected_total{reason="bad_message"}', 'tickwire_joins_total{kind="new"}']) {
      expect(sample.metrics[line], line).toBe(await metric(line));
    }
    expect(sample.cluster.redis).toBe('off');
  });

  it('says the monitor is off on a server without ADMIN_TOKEN', async () => {
    const off = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', npcCount: 0, adminToken: '', stateFile: '' }));
    try {
      const res = await fetch(`http://127.0.0.1:${off.port}/monitor`, { headers: { authorization: 'Bearer anything-at-all-here' } });
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/admin API is off/);
    } finally {
      await off.close();
    }
  });
});
