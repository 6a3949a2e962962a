/**
 * The client at common sizes, in Chromium against the real server: the lobby (plain, and
 * opened from a room link, whose create button reads "Create a new room instead") at
 * 360×640 (a phone, with touch), 1280×720 and 1920×1080 keeps every control inside its
 * card; in the game the HUD's parts and the chat input stay on screen without covering
 * each other (nor the touch sticks on the phone). Checked on element boxes, not pixels;
 * each state is also saved as a screenshot in test-output/layout/. Last, at
 * devicePixelRatio 2 the canvas has twice the pixels of its CSS size (crisp), and the
 * real mouse still aims where screenOf says.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { getToken, TestClient } from './helpers/net.ts';
import { type BrowserHandle, type BrowserShape, enterName, ensureClientBuilt, launchBrowser, tw, waitConnected } from './helpers/browser.ts';

const enabled = haveBinaries('chromium');
const OUT = 'test-output/layout';

interface Box { x: number; y: number; width: number; height: number }

/** The page boxes of `selector`'s visible matches, with a label each. */
const boxes = (page: Page, selector: string): Promise<{ name: string; box: Box }[]> =>
  page.$$eval(selector, (els) => els.filter((e) => (e as HTMLElement).offsetParent !== null || getComputedStyle(e).position === 'fixed')
    .map((e) => {
      const r = e.getBoundingClientRect();
      return { name: e.id || `${e.tagName.toLowerCase()}.${(e as HTMLElement).className}`, box: { x: r.x, y: r.y, width: r.width, height: r.height } };
    })
    .filter((b) => b.box.width > 0 && b.box.height > 0));

const inside = (b: Box, o: Box, slack = 0.5) =>
  b.x >= o.x - slack && b.y >= o.y - slack && b.x + b.width <= o.x + o.width + slack && b.y + b.height <= o.y + o.height + slack;
const overlap = (a: Box, b: Box) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

/** Every visible control of the lobby lies inside the card's content box (within its padding; the whole scrollable height). */
async function lobbyFits(page: Page, label: string): Promise<void> {
  const card = await page.$eval('#lobby', (e) => {
    const r = e.getBoundingClientRect();
    const cs = getComputedStyle(e);
    const [pl, pr, pt] = [cs.paddingLeft, cs.paddingRight, cs.paddingTop].map((v) => Number.parseFloat(v));
    const bl = Number.parseFloat(cs.borderLeftWidth);
    return { x: r.x + bl + pl, y: r.y + pt, width: e.clientWidth - pl - pr, height: Math.max(r.height, e.scrollHeight) };
  });
  const controls = await boxes(page, '#lobby button, #lobby input, #lobby a, #lobby label');
  expect(controls.length).toBeGreaterThanOrEqual(3);
  for (const c of controls) expect(inside(c.box, card), `${label}: ${c.name} ${JSON.stringify(c.box)} outside the card ${JSON.stringify(card)}`).toBe(true);
  const viewport = page.viewportSize()!;
  expect(card.x >= 0 && card.x + card.width <= viewport.width, `${label}: the card leaves the screen`).toBe(true);
}

const SIZES: [string, BrowserShape][] = [
  ['phone', { viewport: { width: 360, height: 640 }, mobile: true }],
  ['laptop', { viewport: { width: 1280, height: 720 } }],
  ['desktop', { viewport: { width: 1920, height: 1080 } }],
];

describe.skipIf(!enabled)('the client at common sizes (Chromium)', () => {
  let srv: RunningServer;
  const browsers: BrowserHandle[] = [];
  beforeAll(async () => {
    ensureClientBuilt();
    mkdirSync(OUT, { recursive: true });
    srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 'layout', staticDir: 'dist/client', npcCount: 20, logLevel: 'silent' }));
  }, 90_000);
  // Each test's browser goes when it ends: pages left rendering a full room starve the next test's page on 2 cores.
  afterEach(async () => {
    for (const b of browsers.splice(0)) await b.close();
  });
  afterAll(async () => {
    await srv?.close();
  });

  for (const [name, shape] of SIZES) {
    const { width: w, height: h } = shape.viewport!;
    it(`${name} ${w}×${h}: the lobby's controls stay in their card, the HUD and chat on screen and apart`, async () => {
      const br = await launchBrowser(shape);
      browsers.push(br);
      const page = await br.context.newPage();
      await page.goto(`${srv.url}/`);
      await page.locator('#create-button').waitFor();
      await lobbyFits(page, `${name} lobby`);
      await page.screenshot({ path: `${OUT}/lobby-${w}x${h}.png` });

      await enterName(page, `P${name}`, 'create');
      await waitConnected(page);
      await page.locator('#scoreboard li').first().waitFor();
      await page.screenshot({ path: `${OUT}/game-${w}x${h}.png` });
      const hud = await boxes(page, '#status, #round, #room-chip, #scoreboard, #chat-input, .help, .touch .stick, .touch .fire');
      const view = { x: 0, y: 0, width: w, height: h };
      for (const p of hud) expect(inside(p.box, view), `${name}: ${p.name} ${JSON.stringify(p.box)} off screen`).toBe(true);
      for (let i = 0; i < hud.length; i++) {
        for (let j = i + 1; j < hud.length; j++) {
          expect(overlap(hud[i].box, hud[j].box), `${name}: ${hud[i].name} covers ${hud[j].name}`).toBe(false);
        }
      }
      if (shape.mobile) expect(hud.some((p) => p.name.includes('stick'))).toBe(true); // the touch controls are there

      // A friend opens the room's link: the lobby offers to join it, or to create a new room instead.
      const code = await tw(page, (t) => t.room as string);
      const friend = await br.context.newPage();
      await friend.goto(`${srv.url}/#/r/${code}`);
      await friend.locator('#join-button').waitFor();
      expect(await friend.locator('#create-button').textContent()).toBe('Create a new room instead');
      await lobbyFits(friend, `${name} room link`);
      await friend.screenshot({ path: `${OUT}/lobby-room-link-${w}x${h}.png` });
    }, 40_000);
  }

  it('phone 360×640 with a full room: the scoreboard stays short of the chat, the netgraph on screen', async () => {
    const br = await launchBrowser(SIZES[0][1]);
    browsers.push(br);
    const page = await br.context.newPage();
    await page.goto(`${srv.url}/`);
    await page.locator('#create-button').waitFor();
    await enterName(page, 'Phone', 'create');
    await waitConnected(page);
    const code = await tw(page, (t) => t.room as string);
    const port = new URL(srv.url).port;
    const bots: TestClient[] = [];
    try {
      for (let i = 0; i < 15; i++) bots.push(new TestClient(`ws://127.0.0.1:${port}/ws?room=${code}&token=${await getToken(srv.url, `Bot${i + 1}`)}`));
      await Promise.all(bots.map((b) => b.until(() => b.net.playerId, 10_000, 'bot welcome')));
      await page.waitForFunction(() => document.querySelectorAll('#scoreboard li').length === 16, undefined, { timeout: 10_000 });
      await page.evaluate(() => (window as unknown as { tickwire: { debug: { toggleNetgraph(): void } } }).tickwire.debug.toggleNetgraph());
      await page.locator('#netgraph').waitFor();
      await page.screenshot({ path: `${OUT}/game-360x640-full-room.png` });
      const rows = await boxes(page, '#scoreboard li');
      expect(rows.length).toBeLessThan(16); // capped on a narrow screen
      expect(rows.length).toBeGreaterThanOrEqual(5);
      expect(await page.locator('#scoreboard li.me').isVisible()).toBe(true); // you are always on it
      const hud = await boxes(page, '#status, #round, #room-chip, #scoreboard, #chat, #netgraph, .touch .stick, .touch .fire');
      const view = { x: 0, y: 0, width: 360, height: 640 };
      for (const p of hud) expect(inside(p.box, view), `${p.name} ${JSON.stringify(p.box)} off screen`).toBe(true);
      const board = hud.find((p) => p.name === 'scoreboard')!;
      for (const p of hud.filter((q) => q.name !== 'scoreboard' && q.name !== 'netgraph')) {
        expect(overlap(board.box, p.box), `the scoreboard covers ${p.name}`).toBe(false);
      }
    } finally {
      for (const b of bots) b.ws.close();
    }
  }, 40_000);

  it('at devicePixelRatio 2 the canvas has twice the pixels of its CSS size, and the mouse aims where screenOf says', async () => {
    const br = await launchBrowser({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 2 });
    browsers.push(br);
    const page = await br.context.newPage();
    await page.goto(`${srv.url}/`);
    await page.locator('#create-button').waitFor();
    await enterName(page, 'Retina', 'create');
    await waitConnected(page);
    const c = await page.$eval('#game canvas', (e) => {
      const cv = e as HTMLCanvasElement;
      return { w: cv.width, h: cv.height, cw: cv.clientWidth, ch: cv.clientHeight, dpr: window.devicePixelRatio };
    });
    expect(c.dpr).toBe(2);
    expect(c).toMatchObject({ cw: 1280, ch: 720, w: 2560, h: 1440 });
    await page.screenshot({ path: `${OUT}/game-1280x720@2x.png` });
    // The pointer in CSS px becomes the aim: point beside the player, then above or below it (towards the
    // middle of the screen, so the pointer stays on the page), and read the aim back.
    const me = await tw(page, (t) => (t.players as { own: boolean; x: number; y: number }[]).find((p) => p.own)!);
    const at = await page.evaluate(({ x, y }) => (window as unknown as { tickwire: { debug: { screenOf(x: number, y: number): { x: number; y: number } } } })
      .tickwire.debug.screenOf(x, y), { x: me.x, y: me.y });
    expect(at.x).toBeGreaterThan(0);
    expect(at.x).toBeLessThan(1280); // CSS px, not device px
    const sx = at.x < 640 ? 1 : -1;
    const sy = at.y < 360 ? 1 : -1;
    for (const [dx, dy] of [[150 * sx, 0], [0, 150 * sy]] as const) {
      await page.mouse.move(at.x + dx, at.y + dy);
      await page.waitForFunction((a) => {
        const t = (window as unknown as { tickwire: { aim: number | null } }).tickwire;
        return t.aim !== null && Math.abs(Math.atan2(Math.sin(t.aim - a), Math.cos(t.aim - a))) < 0.15;
      }, Math.atan2(dy, dx), { timeout: 5000 });
    }
  }, 40_000);
});
