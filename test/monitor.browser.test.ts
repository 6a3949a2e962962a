/**
 * The live monitor (/monitor) in Chromium against a real cluster: redis-server, two
 * instances and nginx in front. Without the admin token the page and every instance's
 * feed are refused. With it (typed into the page's form), the page shows both instances,
 * their rooms and players as bots join, uPlot charts, and figures equal to the ones each
 * instance's /metrics gives; a click kicks a bot (its client is closed with CLOSE_KICKED
 * and its room's list shrinks), another closes a room (CLOSE_ROOM_CLOSED), and an
 * announcement reaches the players. A link may carry the token after #token=.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_KICKED, CLOSE_ROOM_CLOSED, EV_ANNOUNCE } from '../netcode/protocol.ts';
import type { RoomOwner } from '../server/cluster/directory.ts';
import { type RunningCluster, startCluster } from '../server/deploy/cluster.ts';
import { FEED_PROTOCOL, tokenProtocol } from '../server/monitor/routes.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { type BrowserHandle, ensureClientBuilt, launchBrowser } from './helpers/browser.ts';
import { ClusterClient, token } from './helpers/cluster-client.ts';

const enabled = haveBinaries('redis-server', 'nginx', 'chromium');

/** The HTTP status a WebSocket upgrade was refused with (rejects if the socket opened). */
function upgradeStatus(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); });
    ws.on('open', () => { ws.close(); reject(new Error(`${url}: the socket opened`)); });
    ws.on('error', () => {});
  });
}

/** One line of a Prometheus text exposition, as a number. */
async function metric(base: string, line: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (!found) throw new Error(`${base}/metrics has no ${line}`);
  return Number(found.slice(line.length + 1));
}

/** What the page shows for a figure of an instance (its data-value). */
const shown = (page: Page, instance: string, key: string) =>
  page.locator(`section[data-instance="${instance}"] [data-metric='${key}']`).first().getAttribute('data-value').then(Number);

describe.skipIf(!enabled)('the live monitor on a cluster (Chromium)', () => {
  let c: RunningCluster;
  let browser: BrowserHandle;
  const clients: ClusterClient[] = [];
  const errors: string[] = [];

  const player = async (room: RoomOwner, name: string) => {
    const p = new ClusterClient(room.ws, room.code, await token(c.url, name), c.url);
    clients.push(p);
    return p;
  };
  const newRoom = async (): Promise<RoomOwner> => (await (await fetch(`${c.url}/api/rooms`, { method: 'POST' })).json()) as RoomOwner;

  beforeAll(async () => {
    ensureClientBuilt(); // nginx serves it: without it, its fallback to index.html answers 500 (e.g. for the favicon)
    [c, browser] = await Promise.all([
      startCluster({ instances: 2, port: 0, env: { NPC_COUNT: '2', CLUSTER_HEARTBEAT_S: '0.5', CLUSTER_TTL_S: '2', LOG_LEVEL: 'warn' } }),
      launchBrowser(),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const p of clients) p.close();
    await browser?.close();
    await c?.stop();
  });

  it('without the token the page and its feed are refused', async () => {
    const bare = await fetch(`${c.url}/monitor`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('content-type')).toMatch(/text\/html/);
    expect(await bare.text()).toContain('id="sign-in"'); // the form that asks for it
    expect((await fetch(`${c.url}/monitor`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    expect((await fetch(`${c.url}/i/a/monitor`)).status).toBe(401);
    expect((await fetch(`${c.url}/monitor`, { headers: { authorization: `Bearer ${c.adminToken}` } })).status).toBe(200);
    for (const id of ['a', 'b']) {
      const feed = `ws://127.0.0.1:${c.port}/i/${id}/api/admin/monitor/feed`;
      expect(await upgradeStatus(feed)).toBe(401);
      expect(await upgradeStatus(feed, [FEED_PROTOCOL, tokenProtocol('not-the-token-at-all')])).toBe(401);
      expect(await upgradeStatus(feed, [FEED_PROTOCOL], { authorization: 'Bearer not-the-token-at-all' })).toBe(401);
    }
    expect((await fetch(`${c.url}/api/admin/close`, { method: 'POST', body: '{"room":"ABCDE"}' })).status).toBe(401);
  });

  it('shows every instance with its rooms, players, charts and /metrics figures; kicks a bot, closes a room, announces', async () => {
    // Two rooms, on two instances when placement allows (it goes by load: a few draws do).
    const roomA = await newRoom();
    let roomB = await newRoom();
    for (let i = 0; i < 20 && roomB.instance === roomA.instance; i++) roomB = await newRoom();
    const [ada, bob, cy] = await Promise.all([player(roomA, 'Ada'), player(roomA, 'Bob'), player(roomB, 'Cy')]);
    await Promise.all([ada, bob, cy].map((p) => p.until(() => p.live, 'welcome', 8000)));

    const page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    // The 401 of the first load is logged by Chromium as a failed resource: expected here.
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(`console: ${m.text()}`); });
    const first = await page.goto(`${c.url}/monitor`);
    expect(first?.status()).toBe(401);
    await page.locator('#token').fill(c.adminToken);
    await page.locator('#sign-in button[type="submit"]').click();

    // Both instances, each with its rooms and players, from its own feed.
    for (const id of ['a', 'b']) await page.locator(`section[data-instance="${id}"][data-updated]`).waitFor({ timeout: 10_000 });
    const playersOf = (room: RoomOwner) => page.locator(`section[data-instance="${room.instance}"] tr[data-room="${room.code}"] .player`);
    await page.waitForFunction(({ a, b, same }) => {
      const n = (r: { instance: string; code: string }) =>
        document.querySelectorAll(`section[data-instance="${r.instance}"] tr[data-room="${r.code}"] .player`).length;
      return n(a) === 2 && n(b) === 1 && (same || document.querySelectorAll('section.instance tr[data-room]').length >= 2);
    }, { a: roomA, b: roomB, same: roomA.instance === roomB.instance }, { timeout: 10_000 });
    expect(await playersOf(roomA).allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('Ada'), expect.stringContaining('Bob')]));
    expect(await playersOf(roomB).first().textContent()).toContain('Cy');

    // Charts drawn by uPlot: four per instance.
    expect(await page.locator('section.instance .uplot canvas').count()).toBe(8);

    // The page's figures are /metrics' (steady now: nobody joins or leaves). Bytes flow both ways.
    for (const id of ['a', 'b']) {
      const inst = c.instances.find((i) => i.id === id) as RunningCluster['instances'][number];
      const want = (id === roomA.instance ? 2 : 0) + (id === roomB.instance ? 1 : 0);
      await page.waitForFunction(({ id, want }) => document.querySelector(`section[data-instance="${id}"] [data-metric="tickwire_clients"]`)
        ?.getAttribute('data-value') === String(want), { id, want });
      expect(await shown(page, id, 'tickwire_clients')).toBe(await metric(inst.http, 'tickwire_clients'));
      expect(await shown(page, id, 'tickwire_rooms')).toBe(await metric(inst.http, 'tickwire_rooms'));
      expect(await shown(page, id, 'tickwire_redis_up')).toBe(1);
      if (want > 0) {
        expect(await shown(page, id, 'tickwire_ws_bytes_in_total')).toBeGreaterThan(0);
        expect(await shown(page, id, 'tickwire_ws_bytes_out_total')).toBeGreaterThan(0);
      }
    }
    expect(await page.locator(`section[data-instance="a"] [data-field="redis"]`).textContent()).toMatch(/^ready, bus up, registered/);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/monitor.png', fullPage: true });

    // Kick Bob from the page: his client is closed with CLOSE_KICKED and the room's list shrinks.
    await page.locator(`tr[data-room="${roomA.code}"] button[data-action="kick"][data-id="${bob.net.playerId}"]`).click();
    await bob.until(() => bob.socket.state === 'closed', 'Bob closed', 5000);
    expect(bob.states.at(-1)?.code).toBe(CLOSE_KICKED);
    await page.waitForFunction(({ code, id }) => !document.querySelector(`[data-player="${code}:${id}"]`), { code: roomA.code, id: bob.net.playerId });
    expect(await playersOf(roomA).count()).toBe(1);
    expect(await page.locator('#action-status').textContent()).toContain(`Kicked Bob (${roomA.code} #${bob.net.playerId}) on instance ${roomA.instance}`);
    const kicked = `tickwire_messages_rejected_total{reason="kicked"}`;
    await page.waitForFunction(({ sel }) => document.querySelector(sel)?.getAttribute('data-value') === '1',
      { sel: `section[data-instance="${roomA.instance}"] [data-metric='${kicked}']` });
    const ownerA = c.instances.find((i) => i.id === roomA.instance) as RunningCluster['instances'][number];
    expect(await metric(ownerA.http, kicked)).toBe(1);

    // An announcement from the page reaches the players of every instance.
    await page.locator('#announce-text').fill('Monitor says hi');
    await page.locator('#announce button[type="submit"]').click();
    for (const p of [ada, cy]) await p.until(() => p.events.some((e) => e[0] === EV_ANNOUNCE && e[1] === 'Monitor says hi'), 'the announcement', 5000);

    // Close Cy's room from the page: Cy is closed with CLOSE_ROOM_CLOSED and the room leaves the page.
    await page.locator(`tr[data-room="${roomB.code}"] button[data-action="close"]`).click();
    await cy.until(() => cy.socket.state === 'closed', 'Cy closed', 5000);
    expect(cy.states.at(-1)?.code).toBe(CLOSE_ROOM_CLOSED);
    await page.waitForFunction((code) => !document.querySelector(`tr[data-room="${code}"]`), roomB.code);
    const again = await fetch(`${c.url}/api/admin/close`, {
      method: 'POST', headers: { authorization: `Bearer ${c.adminToken}` }, body: JSON.stringify({ room: roomB.code }),
    });
    expect(again.status).toBe(404);
    expect(ada.socket.state).toBe('open'); // the other room plays on
    expect(errors).toEqual([]);
  }, 40_000);

  it('takes the token from a #token= link and takes it off the address; a wrong token is told so', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${c.url}/monitor`);
    await page.locator('#token').fill('not-the-token-at-all');
    await page.locator('#sign-in button[type="submit"]').click();
    await page.locator('#sign-in-error', { hasText: 'not the admin token' }).waitFor();
    const linked = await browser.context.newPage();
    await linked.goto(`${c.url}/monitor#token=${encodeURIComponent(c.adminToken)}`);
    await linked.locator('section[data-instance="b"][data-updated]').waitFor({ timeout: 10_000 });
    expect(linked.url()).toBe(`${c.url}/monitor`);
    await Promise.all([page.close(), linked.close()]);
  });
});
