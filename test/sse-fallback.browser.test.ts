/**
 * The SSE fallback in Debian Chromium against the real server: a page whose WebSocket
 * can never open (an init script points every `new WebSocket` at a port nobody listens
 * on, so it errors and closes before opening, as a proxy that refuses the upgrade looks
 * to a page) still joins after two failed attempts, over Server-Sent Events + POST; it
 * plays (a second page, on a normal WebSocket, sees it move, and it downs a drone), sees
 * that player, has no desyncs, and a dropped connection resumes its seat over SSE again,
 * without trying the WebSocket any more.
 *
 * (page.routeWebSocket cannot stand in: a mocked WebSocket opens in the page.)
 */
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { type BrowserHandle, freeDirection, earnPoint, enterName, ensureClientBuilt, launchBrowser, tw, waitConnected } from './helpers/browser.ts';
import { haveBinaries } from './helpers/binaries.ts';

interface Seen { id: number; x: number; y: number; own: boolean }
interface Page2 { tickwire: { players: Seen[]; debug: { dropSocket(): boolean } }; wsAttempts: string[] }

let srv: RunningServer;
let browsers: BrowserHandle[] = [];
let blocked: Page;
let open: Page;
const pageErrors: string[] = [];

const enabled = haveBinaries('chromium');

/** A loopback port with nothing listening on it (taken, then let go). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  if (!enabled) return;
  ensureClientBuilt();
  srv = await startServer(loadConfig({}, {
    port: 0, host: '127.0.0.1', secret: 'sse-fallback-test', staticDir: 'dist/client', npcCount: 200, logLevel: 'silent',
  }));
  browsers = await Promise.all([launchBrowser(), launchBrowser()]);
  blocked = await browsers[0].context.newPage();
  open = await browsers[1].context.newPage();
  for (const p of [blocked, open]) p.on('pageerror', (e) => pageErrors.push(e.message));
  // Every WebSocket of the blocked page goes nowhere; the URL it was meant for is recorded.
  await blocked.addInitScript((port: number) => {
    const Real = window.WebSocket;
    const attempts: string[] = [];
    (window as unknown as { wsAttempts: string[] }).wsAttempts = attempts;
    class Blocked extends Real {
      constructor(url: string | URL, protocols?: string | string[]) {
        attempts.push(String(url));
        super(`ws://127.0.0.1:${port}/blocked`, protocols);
      }
    }
    window.WebSocket = Blocked;
  }, await closedPort());
}, 90_000);

afterAll(async () => {
  for (const br of browsers) await br.close();
  await srv?.close();
});

const wsAttempts = (p: Page) => p.evaluate(() => (window as unknown as Page2).wsAttempts.length);

describe.skipIf(!enabled)('SSE fallback (Chromium)', () => {
  it('a page whose WebSocket never opens joins over SSE after two attempts, plays, and sees a WebSocket player', async () => {
    await blocked.goto(`${srv.url}/`);
    await enterName(blocked, 'Fay', 'create');
    await waitConnected(blocked, 20_000);
    expect(await tw(blocked, (t) => t.transport)).toBe('sse');
    expect(await wsAttempts(blocked)).toBe(2);
    const code = await tw(blocked, (t) => t.room as string);

    await open.goto(`${srv.url}/#/r/${code}`);
    await enterName(open, 'Bob', 'join');
    await waitConnected(open);
    expect(await tw(open, (t) => t.transport)).toBe('ws');
    const fay = await tw(blocked, (t) => t.playerId as number);
    const bob = await tw(open, (t) => t.playerId as number);
    await blocked.waitForFunction((id) => (window as unknown as Page2).tickwire.players.some((p) => p.id === id), bob, { timeout: 10_000 });

    // Fay's inputs go up in POSTs: the server moves her, and Bob (over the WebSocket) sees it.
    await open.waitForFunction((id) => (window as unknown as Page2).tickwire.players.some((p) => p.id === id), fay, { timeout: 10_000 });
    const start = (await tw(open, (t) => t.players as Seen[])).find((p) => p.id === fay) as Seen;
    const dir = freeDirection(start.x, start.y);
    await blocked.keyboard.down(dir.key);
    try {
      await open.waitForFunction(({ id, x, y, dx, dy }) => {
        const p = (window as unknown as Page2).tickwire.players.find((q) => q.id === id);
        return p && (p.x - x) * dx + (p.y - y) * dy > 40;
      }, { id: fay, x: start.x, y: start.y, dx: dir.dx, dy: dir.dy }, { timeout: 10_000 });
    } finally {
      await blocked.keyboard.up(dir.key);
    }
    expect(await earnPoint(blocked, 20_000)).toBeGreaterThanOrEqual(1); // aim and fire, lag-compensated, over SSE
    expect(await tw(blocked, (t) => t.desyncs)).toBe(0);
    expect(await tw(open, (t) => t.desyncs)).toBe(0);
  }, 55_000);

  it('a dropped SSE connection resumes the same seat and score over SSE, without trying the WebSocket again', async () => {
    const before = { id: await tw(blocked, (t) => t.playerId as number), score: await tw(blocked, (t) => t.score as number) };
    expect(await blocked.evaluate(() => (window as unknown as Page2).tickwire.debug.dropSocket())).toBe(true);
    await blocked.waitForFunction(() => /reconnecting/.test(((window as unknown as { tickwire: { stateLog: string[] } }).tickwire.stateLog).join(',')));
    await waitConnected(blocked);
    expect(await tw(blocked, (t) => [t.playerId, t.transport])).toEqual([before.id, 'sse']);
    expect(await tw(blocked, (t) => t.score as number)).toBeGreaterThanOrEqual(before.score);
    expect(await wsAttempts(blocked)).toBe(2);
    expect(await tw(blocked, (t) => t.desyncs)).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
