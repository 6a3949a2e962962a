/**
 * Spectators in Debian Chromium against the real server: a player plays, a second
 * browser opens the room's `#/r/CODE/watch` link and sees the player move, the
 * player's HUD says "1 watching", and the spectator's keys, clicks and chat box send
 * nothing (the server would close it with CLOSE_SPECTATOR at its first INPUT or CHAT).
 * Then a spectator over Server-Sent Events (`?transport=sse`) takes its place.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { type BrowserHandle, freeDirection, enterName, ensureClientBuilt, launchBrowser, tw, waitConnected, watchErrors } from './helpers/browser.ts';
import { haveBinaries } from './helpers/binaries.ts';

interface Seen { id: number; x: number; y: number; own: boolean }
interface Box { x: number; y: number; width: number; height: number }
interface TW { tickwire: { state: string; spectator: boolean; playerId: number; players: Seen[]; watchers: number; transport: string } }

let srv: RunningServer;
let browsers: BrowserHandle[] = [];
let player: Page;
let code = '';
let errors: string[] = [];
const OUT = 'test-output/spectator';

const enabled = haveBinaries('chromium');

beforeAll(async () => {
  if (!enabled) return;
  ensureClientBuilt();
  srv = await startServer(loadConfig({}, {
    port: 0, host: '127.0.0.1', secret: 'spectator-test', staticDir: 'dist/client', npcCount: 20, logLevel: 'silent',
  }));
  // One browser per page: two Phaser pages of one Chromium share its software GPU and starve each other.
  browsers = await Promise.all([launchBrowser(), launchBrowser()]);
  player = await browsers[0].context.newPage();
  errors = watchErrors(player);
  mkdirSync(OUT, { recursive: true });
}, 90_000);

afterAll(async () => {
  for (const br of browsers) await br.close();
  await srv?.close();
});

/** Opens the room's watch link and waits until the page is a welcomed spectator. */
async function openSpectator(query = ''): Promise<Page> {
  const page = await browsers[1].context.newPage();
  page.on('pageerror', (e) => errors.push(`spectator pageerror: ${e.message}`));
  await page.goto(`${srv.url}/${query}#/r/${code}/watch`);
  await page.waitForFunction(() => {
    const t = (window as unknown as TW).tickwire;
    return t?.state === 'connected' && t.spectator && t.playerId === 0;
  }, undefined, { timeout: 15_000 });
  return page;
}

/** The player walks the freest way; resolves once `watcher` saw it get 40 u there. */
async function walkSeenBy(watcher: Page): Promise<void> {
  const id = await tw(player, (t) => t.playerId as number);
  await watcher.waitForFunction((pid) => (window as unknown as TW).tickwire.players.some((p) => p.id === pid), id, { timeout: 10_000 });
  const start = (await tw(watcher, (t) => t.players as Seen[])).find((p) => p.id === id) as Seen;
  const dir = freeDirection(start.x, start.y);
  await player.keyboard.down(dir.key);
  try {
    await watcher.waitForFunction(({ pid, x, y, dx, dy }) => {
      const p = (window as unknown as TW).tickwire.players.find((q) => q.id === pid);
      return p && (p.x - x) * dx + (p.y - y) * dy > 40;
    }, { pid: id, x: start.x, y: start.y, dx: dir.dx, dy: dir.dy }, { timeout: 10_000 });
  } finally {
    await player.keyboard.up(dir.key);
  }
}

const chipText = (p: Page) => p.locator('#room-chip').textContent();

/** The page boxes of `selector`'s visible matches, by id. */
const boxes = (page: Page, selector: string): Promise<{ name: string; box: Box }[]> =>
  page.$$eval(selector, (els) => els.filter((e) => (e as HTMLElement).offsetParent !== null && getComputedStyle(e).display !== 'none')
    .map((e) => {
      const r = e.getBoundingClientRect();
      return { name: e.id || e.className, box: { x: r.x, y: r.y, width: r.width, height: r.height } };
    }));
const inside = (b: Box, o: Box) => b.x >= o.x - 0.5 && b.y >= o.y - 0.5 && b.x + b.width <= o.x + o.width + 0.5 && b.y + b.height <= o.y + o.height + 0.5;
const overlap = (a: Box, b: Box) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

describe.skipIf(!enabled)('spectators (Chromium)', () => {
  it('a spectator sees the player move, the player sees "1 watching", and the spectator sends no inputs', async () => {
    await player.goto(`${srv.url}/`);
    await enterName(player, 'Ada', 'create');
    await waitConnected(player);
    code = await tw(player, (t) => t.room as string);
    expect(await chipText(player)).not.toMatch(/watching/);

    const spec = await openSpectator();
    expect(await tw(spec, (t) => t.transport)).toBe('ws');
    await spec.locator('#watch-text', { hasText: `Watching room ${code} · 1 watching` }).waitFor({ timeout: 5000 });
    expect(await spec.locator('#watch-join').isVisible()).toBe(true);
    expect(await spec.locator('#chat-input').isDisabled()).toBe(true);
    expect(await spec.locator('#touch').isHidden()).toBe(true);
    await player.waitForFunction(() => /· 1 watching/.test(document.querySelector('#room-chip')?.textContent ?? ''), undefined, { timeout: 5000 });
    expect(await tw(player, (t) => t.watchers)).toBe(1);

    await walkSeenBy(spec);
    await spec.screenshot({ path: `${OUT}/spectator.png` });
    await player.screenshot({ path: `${OUT}/player-watched.png` });
    // The camera list offers the player; the leader is followed by default.
    expect(await spec.locator('#watch-follow option', { hasText: 'Ada' }).count()).toBe(1);

    // Everything a player would do: keys, a click on the arena, Enter and typing. A single INPUT or CHAT would
    // close the spectator (CLOSE_SPECTATOR, final): it stays connected, and no entity of its own appears.
    await spec.keyboard.down('KeyD');
    await spec.keyboard.press('Space');
    await spec.mouse.click(640, 400);
    await spec.keyboard.press('Enter');
    await spec.keyboard.type('hello');
    await spec.keyboard.press('Enter');
    await spec.waitForTimeout(800);
    await spec.keyboard.up('KeyD');
    await spec.waitForFunction(() => (document.querySelector('#watch-follow') as HTMLSelectElement).value === 'free'); // keys pan: a free camera
    const adaId = String(await tw(player, (t) => t.playerId as number));
    await spec.locator('#watch-follow').selectOption(adaId); // back on Ada
    expect(await spec.locator('#watch-follow').inputValue()).toBe(adaId);
    expect(await spec.locator('#chat-log li', { hasText: 'hello' }).count()).toBe(0);
    expect(await tw(spec, (t) => [t.state, t.playerId, t.pendingInputs])).toEqual(['connected', 0, 0]);
    expect(await tw(spec, (t) => (t.stateLog as string[]).includes('closed'))).toBe(false);
    expect(await tw(player, (t) => (t.players as Seen[]).length)).toBe(1);
    expect(await tw(spec, (t) => t.desyncs)).toBe(0);
    expect(await tw(player, (t) => t.desyncs)).toBe(0);
    // Join: the room's own link, where the lobby offers its seat; the spectator is gone from the count.
    await spec.locator('#watch-join').click();
    await spec.locator('#join-button', { hasText: `Join room ${code}` }).waitFor({ timeout: 5000 });
    expect(await spec.locator('#watch').isHidden()).toBe(true);
    await spec.close();
    await player.waitForFunction(() => !/watching/.test(document.querySelector('#room-chip')?.textContent ?? ''), undefined, { timeout: 5000 });
  }, 45_000);

  it('a spectator over Server-Sent Events (?transport=sse) watches the same way', async () => {
    const spec = await openSpectator('?transport=sse');
    expect(await tw(spec, (t) => t.transport)).toBe('sse');
    await player.waitForFunction(() => /· 1 watching/.test(document.querySelector('#room-chip')?.textContent ?? ''), undefined, { timeout: 5000 });
    await walkSeenBy(spec);
    expect(await tw(spec, (t) => t.desyncs)).toBe(0);
    expect(await tw(spec, (t) => t.state)).toBe('connected');
    // The banner fits a phone and a small window, apart from the rest of the HUD.
    for (const [width, height] of [[360, 640], [720, 600]]) {
      await spec.setViewportSize({ width, height });
      await spec.waitForTimeout(300); // a frame or two at the new size
      await spec.screenshot({ path: `${OUT}/spectator-${width}x${height}.png` });
      const hud = await boxes(spec, '#status, #round, #room-chip, #watch, #scoreboard, #chat, #hud .help');
      expect(hud.map((h) => h.name)).toContain('watch');
      for (const h of hud) expect(inside(h.box, { x: 0, y: 0, width, height }), `${width}x${height}: ${h.name} off screen`).toBe(true);
      for (const a of hud) {
        for (const b of hud) if (a !== b) expect(overlap(a.box, b.box), `${width}x${height}: ${a.name} covers ${b.name}`).toBe(false);
      }
    }
    expect(errors).toEqual([]);
  }, 30_000);
});
