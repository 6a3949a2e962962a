/**
 * The replay viewer in Chromium against the real server: three bots play a few
 * seconds in a room (the lobby lists it with a Watch link beside Join); an operator
 * closes it, so its replay is written; the lobby's "Recent matches" lists it, and
 * "Watch replay" opens `#/replay/ID`. Seeking with the slider to a keyframe in the
 * middle draws exactly that keyframe's players and drones (the same file decoded
 * here, in node, by netcode's decodeReplay); playing moves the playhead on at the
 * speed chosen. At 360×640 (a phone) the control bar and the HUD stay on screen and
 * apart. Screenshots go to test-output/replay/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP, POS_SCALE } from '../game/sim/constants.ts';
import { parseWorld } from '../game/sim/persist.ts';
import { readReplay } from '../game/tools/replay-verify.ts';
import type { Recording } from '../netcode/replay.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import type { ReplayEntry } from '../server/replays.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { type BrowserHandle, ensureClientBuilt, launchBrowser, watchErrors } from './helpers/browser.ts';
import { getToken, TestClient } from './helpers/net.ts';

const enabled = haveBinaries('chromium');
const OUT = 'test-output/replay';
const ADMIN = 'replay-viewer-admin-token-0123';
const ROOM = 'VIEWR';

interface Drawn { id: number; kind: 'player' | 'npc'; x: number; y: number }
/** window.tickwire.replay (game/client/src/replay.ts). */
interface Hooks { tick: number; playing: boolean; speed: number; follow: number; keyframes: number[]; entities(): Drawn[]; seek(tick: number): void }
const hooks = <T>(page: Page, f: string): Promise<T> => page.evaluate(`(() => { const r = window.tickwire.replay; return ${f}; })()`) as Promise<T>;

interface Box { x: number; y: number; width: number; height: number }
const boxOf = (page: Page, sel: string): Promise<Box | null> => page.locator(sel).first().boundingBox();
const inside = (b: Box, o: Box) => b.x >= o.x - 0.5 && b.y >= o.y - 0.5 && b.x + b.width <= o.x + o.width + 0.5 && b.y + b.height <= o.y + o.height + 0.5;
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe.skipIf(!enabled)('the replay viewer (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-replay-viewer-'));
  let srv: RunningServer;
  const browsers: BrowserHandle[] = [];
  let entry: ReplayEntry;
  let rec: Recording;

  beforeAll(async () => {
    ensureClientBuilt();
    mkdirSync(OUT, { recursive: true });
    srv = await startServer(loadConfig({}, {
      port: 0, host: '127.0.0.1', secret: 'replay-viewer', staticDir: 'dist/client', npcCount: 12, logLevel: 'silent',
      adminToken: ADMIN, stateFile: '', replayDir: dir, replayMinS: 1, replayKeyframeS: 1,
    }));
  }, 90_000);
  afterAll(async () => {
    for (const b of browsers) await b.close();
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a recorded match in the lobby and draws the keyframe seeked to, exactly', async () => {
    const br = await launchBrowser();
    browsers.push(br);
    const page = await br.context.newPage();
    const errors = watchErrors(page);

    // Three bots play: walking in turns, firing now and then, aiming around.
    const port = new URL(srv.url).port;
    const bots = await Promise.all(['Ada', 'Bo', 'Cy'].map(async (n) => new TestClient(`ws://127.0.0.1:${port}/ws?room=${ROOM}&token=${await getToken(srv.url, n)}`)));
    await Promise.all(bots.map((b) => b.until(() => b.net.playerId, 5000, 'welcome')));
    const moves = [BTN_UP, BTN_RIGHT, BTN_DOWN, BTN_LEFT];
    let n = 0;
    const timer = setInterval(() => {
      n++;
      bots.forEach((b, i) => {
        const buttons = moves[((n >> 4) + i) % 4] | (n % 5 === i ? BTN_FIRE : 0);
        b.send(b.net.input({ buttons, aim: (n * 700 + i * 20000) & 0xffff }, b.net.serverTick, performance.now()).bytes);
      });
    }, 1000 / 30);
    try {
      // Meanwhile the lobby lists the room with a Watch link beside Join.
      await page.goto(`${srv.url}/`);
      const row = page.locator('#room-list li', { hasText: ROOM });
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('a.watch').getAttribute('href')).toBe(`#/r/${ROOM}/watch`);
      await bots[0].until(() => bots[0].net.serverTick >= 150, 15_000, '5 s of play');
    } finally {
      clearInterval(timer);
    }
    const closed = await fetch(`${srv.url}/api/admin/close`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ room: ROOM }) });
    expect(closed.status).toBe(200);
    await srv.replays!.flush();
    const list = (await (await fetch(`${srv.url}/api/replays`)).json()) as { replays: ReplayEntry[] };
    entry = list.replays.find((r) => r.room === ROOM)!;
    expect(entry).toBeDefined();
    const read = readReplay(new Uint8Array(await (await fetch(`${srv.url}/api/replays/${entry.id}`)).arrayBuffer()));
    if (!read.ok) throw new Error(read.reason);
    rec = read.rec;
    expect(rec.keyframes.length).toBeGreaterThanOrEqual(3);

    // The lobby's Recent matches (refreshed every 3 s) lists it: room, who played, a link to the replay.
    const match = page.locator(`#replay-list li[data-replay="${entry.id}"]`);
    await match.waitFor({ timeout: 10_000 });
    const text = await match.textContent();
    for (const s of [ROOM, 'Ada', 'Bo', 'Cy']) expect(text).toContain(s);
    await page.screenshot({ path: `${OUT}/lobby-recent-matches.png` });
    await match.locator('a', { hasText: 'Watch replay' }).click();
    await page.waitForFunction(() => (window as unknown as { tickwire?: { replay?: unknown } }).tickwire?.replay, undefined, { timeout: 15_000 });
    expect(page.url()).toContain(`#/replay/${entry.id}`);
    expect(await page.locator('#lobby').isHidden()).toBe(true);
    expect(await hooks<number[]>(page, 'r.keyframes')).toEqual([0, ...rec.keyframes.map((k) => k.at)].map((at) => rec.startTick + at));
    const follow = await page.locator('#replay-follow option').allTextContents();
    expect(follow).toEqual(['Free camera', ...rec.players.map(([, name]) => name)]);
    expect(await hooks<number>(page, 'r.follow')).toBe(rec.players[0][0]); // the first to play, at first

    // Pause, then seek with the slider to a keyframe in the middle: what is drawn is that keyframe's world.
    expect(await hooks<boolean>(page, 'r.playing')).toBe(true); // it opens playing
    await page.locator('#replay-play').click();
    expect(await hooks<boolean>(page, 'r.playing')).toBe(false);
    const k = rec.keyframes[rec.keyframes.length >> 1];
    await page.locator('#replay-seek').fill(String(k.at));
    await page.waitForFunction((t) => (window as unknown as { tickwire: { replay: Hooks } }).tickwire.replay.tick === t, rec.startTick + k.at, { timeout: 5000 });
    await page.waitForTimeout(100); // a few frames drawn there
    const want = parseWorld(k.world, 'keyframe');
    expect(want.tick).toBe(rec.startTick + k.at);
    const expected: Drawn[] = [
      ...want.players.map((p) => ({ id: p.id, kind: 'player' as const, x: p.x, y: p.y })),
      ...want.npcs.filter((d) => d.hp > 0).map((d) => ({ id: d.id, kind: 'npc' as const, x: d.x, y: d.y })),
    ];
    const drawn = await hooks<Drawn[]>(page, 'r.entities()');
    expect(expected.filter((e) => e.kind === 'player')).toHaveLength(3);
    expect(drawn.map((e) => `${e.kind}${e.id}`)).toEqual(expected.map((e) => `${e.kind}${e.id}`));
    const tol = 1 / POS_SCALE; // the position grid: what any quantization could lose
    for (const [i, e] of expected.entries()) {
      expect(Math.abs(drawn[i].x - e.x), `${e.kind} ${e.id} x`).toBeLessThanOrEqual(tol);
      expect(Math.abs(drawn[i].y - e.y), `${e.kind} ${e.id} y`).toBeLessThanOrEqual(tol);
    }
    const board = await page.locator('#scoreboard li').allTextContents();
    expect(board).toHaveLength(3);
    await page.screenshot({ path: `${OUT}/viewer-1280x720-keyframe.png` });

    // Play at 4×: the playhead moves on, about four ticks per tick of real time.
    await page.locator('#replay-speed').selectOption('4');
    expect(await hooks<number>(page, 'r.speed')).toBe(4);
    const t0 = await hooks<number>(page, 'r.tick');
    await page.evaluate(() => { (window as unknown as { tickwire: { replay: Hooks } }).tickwire.replay.playing = true; });
    await page.waitForTimeout(500);
    await page.evaluate(() => { (window as unknown as { tickwire: { replay: Hooks } }).tickwire.replay.playing = false; });
    const moved = (await hooks<number>(page, 'r.tick')) - t0;
    expect(moved).toBeGreaterThan(15); // 0.5 s × 30 Hz × 4 = 60, less a slow frame or two

    // Follow Bo, then drag the arena: the camera goes free.
    const bo = rec.players.find(([, name]) => name === 'Bo')![0];
    await page.locator('#replay-follow').selectOption(String(bo));
    expect(await hooks<number>(page, 'r.follow')).toBe(bo);
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${OUT}/viewer-1280x720-follow.png` });
    await page.mouse.move(640, 300);
    await page.mouse.down();
    await page.mouse.move(500, 250, { steps: 4 });
    await page.mouse.up();
    expect(await hooks<number>(page, 'r.follow')).toBe(0);
    expect(await page.locator('#replay-follow').inputValue()).toBe('0');

    // Back to the lobby.
    await page.locator('#replay-back').click();
    await page.locator('#lobby').waitFor();
    expect(await page.locator('#replay').isHidden()).toBe(true);
    expect(errors).toEqual([]);
  }, 50_000);

  it('at 360×640 the control bar fits the screen, apart from the HUD', async () => {
    const br = await launchBrowser({ viewport: { width: 360, height: 640 }, mobile: true });
    browsers.push(br);
    const page = await br.context.newPage();
    await page.goto(`${srv.url}/#/replay/${entry.id}`);
    await page.waitForFunction(() => (window as unknown as { tickwire?: { replay?: unknown } }).tickwire?.replay, undefined, { timeout: 15_000 });
    await page.locator('#scoreboard li').first().waitFor();
    await page.screenshot({ path: `${OUT}/viewer-360x640.png` });
    const view = { x: 0, y: 0, width: 360, height: 640 };
    const bar = (await boxOf(page, '#replay'))!;
    expect(inside(bar, view), `bar ${JSON.stringify(bar)}`).toBe(true);
    for (const sel of ['#replay-play', '#replay-seek', '#replay-time', '#replay-speed', '#replay-follow', '#replay-back']) {
      const b = await boxOf(page, sel);
      expect(b, sel).not.toBeNull();
      expect(inside(b!, bar), `${sel} ${JSON.stringify(b)} outside the bar ${JSON.stringify(bar)}`).toBe(true);
      expect(b!.width, sel).toBeGreaterThan(20);
    }
    for (const sel of ['#scoreboard', '#round']) {
      const b = (await boxOf(page, sel))!;
      expect(inside(b, view), `${sel} off screen`).toBe(true);
      expect(overlap(b, bar), `${sel} covers the bar`).toBe(false);
    }
    for (const sel of ['#status', '#chat', '#room-chip']) expect(await page.locator(sel).isVisible(), `${sel} shown in a replay`).toBe(false);
  }, 30_000);
});
