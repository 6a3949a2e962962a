/**
 * The browser client in Debian Chromium against the real server: two pages join
 * one room through the share link and see each other move; chat arrives as
 * text; a dropped socket reconnects to the same seat and score; a full room (16
 * players, 200 drones) is screenshotted and its frame cost measured.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../game/sim/constants.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import {
  type BrowserHandle, earnPoint, enterName, ensureClientBuilt, freeDirection, launchBrowser, recordStatus, statusTexts, tw, waitConnected,
} from './helpers/browser.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { getToken, TestClient } from './helpers/net.ts';

interface Seen { id: number; name: string; x: number; y: number; hp: number; score: number; own: boolean }
/** The part of window.tickwire these tests read (see game/client/src/debug.ts). */
interface TW {
  tickwire: {
    players: Seen[];
    npcs: { x: number; y: number }[];
    score: number;
    stateLog: string[];
    debug: { dropSocket(): boolean; toggleNetgraph(): void; screenOf(x: number, y: number): { x: number; y: number } | null };
  };
}

let srv: RunningServer;
let browsers: BrowserHandle[] = [];
let a: Page;
let b: Page;
let errors: string[] = [];
let link = '';

const players = (p: Page) => tw(p, (t) => t.players as Seen[]);

const enabled = haveBinaries('chromium');

beforeAll(async () => {
  if (!enabled) return;
  ensureClientBuilt();
  srv = await startServer(loadConfig({}, {
    port: 0, host: '127.0.0.1', secret: 'browser-test', staticDir: 'dist/client', npcCount: 200, logLevel: 'silent',
  }));
  // One browser per player: two pages of one Chromium share its software GPU (SwiftShader), and under
  // load one page starves the other down to ~1 fps; separate processes share the CPU fairly.
  browsers = await Promise.all([launchBrowser(), launchBrowser()]);
  a = await browsers[0].context.newPage();
  b = await browsers[1].context.newPage();
  errors = [];
  for (const p of [a, b]) p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
}, 90_000);

afterAll(async () => {
  for (const br of browsers) await br.close();
  await srv?.close();
});

describe.skipIf(!enabled)('browser client (Chromium)', () => {
  it('two players join one room through the share link and see each other move', async () => {
    await a.goto(`${srv.url}/`);
    await enterName(a, 'Ada', 'create');
    await waitConnected(a);
    link = (await a.locator('#room-chip button').getAttribute('title')) ?? '';
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#\/r\/[A-Z]{5}$/);
    expect(a.url()).toBe(link);

    await b.goto(link);
    await b.locator('#join-button').waitFor();
    expect(await b.locator('#join-button').textContent()).toMatch(/^Join room [A-Z]{5}$/);
    await enterName(b, 'Bob', 'join');
    await waitConnected(b);
    const aId = await tw(a, (t) => t.playerId as number);
    const bId = await tw(b, (t) => t.playerId as number);
    expect(aId).not.toBe(bId);
    expect(await tw(a, (t) => t.room)).toBe(await tw(b, (t) => t.room));

    // B sees A; A walks the freest way; B sees A get there.
    await b.waitForFunction((id) => (window as unknown as TW).tickwire.players.some((p: Seen) => p.id === id), aId);
    const start = (await players(b)).find((p) => p.id === aId) as Seen;
    const dir = freeDirection(start.x, start.y);
    await a.keyboard.down(dir.key);
    await b.waitForFunction(({ id, x, y, dx, dy }) => {
      const p = (window as unknown as TW).tickwire.players.find((q: Seen) => q.id === id);
      return p && (p.x - x) * dx + (p.y - y) * dy > 40;
    }, { id: aId, x: start.x, y: start.y, dx: dir.dx, dy: dir.dy }, { timeout: 10_000 });
    await a.keyboard.up(dir.key);
    // A's own (predicted) view agrees with what B saw, once both settle.
    await a.waitForFunction(({ id, x, y, dx, dy }) => {
      const p = (window as unknown as TW).tickwire.players.find((q: Seen) => q.id === id);
      return p && (p.x - x) * dx + (p.y - y) * dy > 40;
    }, { id: aId, x: start.x, y: start.y, dx: dir.dx, dy: dir.dy });
    expect(await tw(a, (t) => t.desyncs)).toBe(0);
    expect(await tw(b, (t) => t.desyncs)).toBe(0);
  }, 40_000);

  it('chat typed in one page appears in the other, as text', async () => {
    const text = 'hi <b>Bob</b> & <img src=x onerror=alert(1)>';
    await a.keyboard.press('Enter'); // focuses the chat box
    await a.waitForFunction(() => document.activeElement?.id === 'chat-input');
    await a.locator('#chat-input').fill(text); // (typing key by key is slow on a software-rendered page)
    await a.keyboard.press('Enter');
    await a.waitForFunction(() => document.activeElement?.id !== 'chat-input'); // back to the game
    const line = b.locator('#chat-log li', { hasText: 'hi <b>Bob</b>' });
    await line.waitFor({ timeout: 10_000 });
    expect(await line.textContent()).toBe(`Ada:${text}`);
    expect(await b.locator('#chat-log b, #chat-log img').count()).toBe(0);
  }, 20_000);

  it('a dropped socket shows "reconnecting", then resumes the same seat and score', async () => {
    await earnPoint(b); // a point first, to see it kept
    const before = { id: await tw(b, (t) => t.playerId as number), score: await tw(b, (t) => t.score as number) };
    expect(before.score).toBeGreaterThanOrEqual(1);

    await recordStatus(b);
    expect(await b.evaluate(() => (window as unknown as TW).tickwire.debug.dropSocket())).toBe(true);
    await waitConnected(b);
    const shown = await statusTexts(b);
    expect(shown.some((t) => /Reconnecting/.test(t))).toBe(true);
    expect(await tw(b, (t) => t.playerId)).toBe(before.id);
    await b.waitForFunction((s) => (window as unknown as TW).tickwire.score >= s, before.score);
    await b.waitForFunction(() => /connected,reconnecting,connecting,connected$/.test((window as unknown as TW).tickwire.stateLog.join(',')));
    // A saw B drop and come back.
    await a.locator('#chat-log li', { hasText: 'Bob is back.' }).waitFor();

    // A reload keeps the tab's session: straight back into the same seat, no lobby.
    await b.reload();
    await waitConnected(b);
    expect(await tw(b, (t) => t.playerId)).toBe(before.id);
    expect(await b.locator('#lobby').isHidden()).toBe(true);
  }, 40_000);

  it('renders a full room (16 players, 200 drones) and measures the frame cost', async () => {
    const code = link.slice(-5);
    const bots: TestClient[] = [];
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 14; i++) {
      const bot = new TestClient(`ws://127.0.0.1:${srv.port}/ws?room=${code}&token=${await getToken(srv.url, `Bot${i + 1}`)}`);
      bots.push(bot);
      let buttons = 0;
      let aim = 0;
      let n = 0;
      timers.push(setInterval(() => {
        if (!bot.net.playerId) return;
        if (n++ % 20 === 0) {
          buttons = [BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP | BTN_LEFT, BTN_DOWN | BTN_RIGHT][(i + n) % 6];
          aim = (aim + 9000 + i * 1000) & 0xffff;
        }
        bot.send(bot.net.input({ buttons: buttons | (n % 3 === 0 ? BTN_FIRE : 0), aim }, bot.net.serverTick, performance.now()).bytes);
      }, 1000 / 30));
    }
    try {
      await Promise.all(bots.map((bot) => bot.until(() => bot.net.playerId, 10_000, 'bot welcome')));
      await a.waitForFunction(() => document.querySelectorAll('#scoreboard li').length === 16, undefined, { timeout: 10_000 });
      mkdirSync('test-output', { recursive: true });
      mkdirSync('docs', { recursive: true });
      await b.waitForFunction(() => document.querySelectorAll('#scoreboard li').length === 16, undefined, { timeout: 10_000 });
      await b.screenshot({ path: 'test-output/full-room-b.png' });
      // Measure A alone (2 cores): Bob's seat stays in the room for the resume grace, so it is still 16 players.
      await b.close();
      await a.evaluate(() => (window as unknown as TW).tickwire.debug.toggleNetgraph());
      // Walk toward the middle (a corner would put us under the netgraph), then fire at will.
      const me = (await players(a)).find((p) => p.own);
      const keys = me ? [me.x > 800 ? 'KeyA' : 'KeyD', me.y > 600 ? 'KeyW' : 'KeyS'] : [];
      for (const k of keys) await a.keyboard.down(k);
      await a.waitForTimeout(1_500);
      for (const k of keys) await a.keyboard.up(k);
      await a.mouse.move(900, 250);
      await a.keyboard.down('Space');
      // Let the frame-time ring (300 frames) fill with full-room frames only.
      await a.waitForTimeout(6_500);
      const fig = await tw(a, (t) => t.figures as Record<string, number>);
      await a.screenshot({ path: 'test-output/full-room-a.png' });
      // The README's picture: refreshed on request, so a test run leaves the tree clean.
      if (process.env.UPDATE_SCREENSHOT === '1') await a.screenshot({ path: 'docs/screenshot.png' });
      await a.keyboard.up('Space');
      console.log(`[browser] 16 players, 200 drones: fps ${fig.fps.toFixed(0)}, frame work mean ${fig.frameWorkMs.toFixed(2)} ms, p95 ${fig.frameWorkMsP95.toFixed(2)} ms, ${fig.entities} entities drawn, ping ${fig.ping.toFixed(0)} ms, ${fig.snapshotRate} snapshots/s, in ${fig.kbpsIn.toFixed(0)} kbps`);
      // FPS here is bound by software WebGL (SwiftShader + readback) on a shared 2-core box, not by our code:
      // an empty arena draws at ~20-25 fps in this setup. The client's own work per frame must stay small.
      expect(fig.fps).toBeGreaterThan(2);
      expect(fig.frameWorkMsP95).toBeLessThan(25);
      expect(await tw(a, (t) => t.desyncs)).toBe(0);
      // The room is full now (Bob's seat is held): a newcomer is told so in the lobby.
      const c = await browsers[1].context.newPage();
      await c.goto(link);
      await enterName(c, 'Cy', 'join');
      await c.locator('#lobby-message', { hasText: /is full \(16\/16 players\)/ }).waitFor();
      await c.close();
    } finally {
      for (const t of timers) clearInterval(t);
      for (const bot of bots) bot.close();
    }
    expect(errors).toEqual([]);
  }, 60_000);
});
