/**
 * Browser-test plumbing: build the client when stale, launch Debian Chromium
 * through playwright-core with a throwaway profile, and drive the lobby.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../../game/sim/constants.ts';
import { movePlayer } from '../../game/sim/movement.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLIENT_INPUTS = ['game/client', 'game/sim', 'netcode'];
const BUILT = join(ROOT, 'dist/client/index.html');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/client when it is missing or older than any client source. Test files run in
 * parallel processes and several may find it stale at once; and nginx, in a cluster test,
 * serves it meanwhile. So one process builds (a lock directory), the others wait for it,
 * and the build is written beside dist/client and swapped in whole: nobody ever reads a
 * half-emptied directory (nginx answered 500 for a page whose files were mid-rebuild).
 */
export function ensureClientBuilt(): void {
  const lock = join(ROOT, 'dist/.client-build.lock');
  const fresh = () => {
    const built = existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0;
    return built >= Math.max(...CLIENT_INPUTS.map((d) => newestMtime(join(ROOT, d))));
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (fresh()) return;
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    try {
      mkdirSync(lock);
    } catch {
      // Another test process is building: wait for it (a lock older than two minutes is a dead build's).
      if (Date.now() > deadline || Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    try {
      if (fresh()) return;
      const out = join(ROOT, `dist/client.build-${process.pid}`);
      execFileSync('npx', ['vite', 'build', '--config', 'game/client/vite.config.ts', '--logLevel', 'warn', '--outDir', out, '--emptyOutDir'], { cwd: ROOT, stdio: 'pipe' });
      const old = join(ROOT, `dist/client.old-${process.pid}`);
      if (existsSync(join(ROOT, 'dist/client'))) renameSync(join(ROOT, 'dist/client'), old);
      renameSync(out, join(ROOT, 'dist/client'));
      rmSync(old, { recursive: true, force: true });
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface BrowserHandle {
  context: BrowserContext;
  close: () => Promise<void>;
}

export interface BrowserShape {
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
  /** A phone: touch events, `pointer: coarse`, the touch controls. */
  mobile?: boolean;
}

/** Chromium with a fresh profile directory (removed on close); 1280×720 at density 1 unless `shape` says otherwise. */
export async function launchBrowser(shape: BrowserShape = {}): Promise<BrowserHandle> {
  const profile = mkdtempSync(join(tmpdir(), 'tickwire-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport: shape.viewport ?? { width: 1280, height: 720 },
    deviceScaleFactor: shape.deviceScaleFactor ?? 1,
    ...(shape.mobile ? { hasTouch: true, isMobile: true } : {}),
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Types a name into the lobby and submits (create or join, whichever the page offers first). */
export async function enterName(page: Page, name: string, action: 'create' | 'join'): Promise<void> {
  await page.locator('#name-input').fill(name);
  await page.locator(action === 'create' ? '#create-button' : '#join-button').click();
}

/** Waits until window.tickwire reports a live, welcomed connection. */
export async function waitConnected(page: Page, timeout = 15_000): Promise<void> {
  try {
    await page.waitForFunction(() => {
      const tw = (window as unknown as { tickwire?: { state: string; playerId: number } }).tickwire;
      return tw?.state === 'connected' && tw.playerId > 0;
    }, undefined, { timeout });
  } catch (err) {
    // Say what the page showed instead: the pill's text and the lobby's error, if any.
    const seen = await page.evaluate(() => ({
      state: (window as unknown as { tickwire?: { state: string } }).tickwire?.state,
      status: document.querySelector('#status')?.textContent,
      lobby: document.querySelector('#lobby-message')?.textContent,
    })).catch(() => null);
    throw new Error(`not connected within ${timeout} ms; the page showed ${JSON.stringify(seen)}`, { cause: err });
  }
}

interface Hunter {
  tickwire: {
    score: number;
    players: { own: boolean; x: number; y: number }[];
    npcs: { x: number; y: number }[];
    debug: { screenOf(x: number, y: number): { x: number; y: number } | null };
  };
}

/** Earns the page's player a point: hunts the nearest drone with the real mouse. Resolves with the score. */
export async function earnPoint(page: Page, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  await page.mouse.down();
  try {
    for (;;) {
      const score = await page.evaluate(() => (window as unknown as Hunter).tickwire.score);
      if (score >= 1) return score;
      if (Date.now() > deadline) throw new Error(`no drone downed in ${timeoutMs / 1000} s`);
      const aim = await page.evaluate(() => {
        const t = (window as unknown as Hunter).tickwire;
        const me = t.players.find((p) => p.own);
        if (!me) return null;
        let best = null;
        let bestD = Infinity;
        for (const n of t.npcs) {
          const d = Math.hypot(n.x - me.x, n.y - me.y);
          if (d < bestD) { best = n; bestD = d; }
        }
        return best ? t.debug.screenOf(best.x, best.y) : null;
      });
      if (aim) await page.mouse.move(aim.x, aim.y);
      await page.waitForTimeout(50); // re-aim at the drone's new position every few frames
    }
  } finally {
    await page.mouse.up();
  }
}

/**
 * Records every text the status pill shows from now on (window.statusTexts): a short state
 * can fall between two polls of a page that renders at a few frames a second on a loaded machine.
 */
export async function recordStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.getElementById('status') as HTMLElement;
    const seen: string[] = [el.textContent ?? ''];
    (window as unknown as { statusTexts: string[] }).statusTexts = seen;
    new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { childList: true, subtree: true, characterData: true });
  });
}

export const statusTexts = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { statusTexts: string[] }).statusTexts);

/** Reads a window.tickwire field (or expression over it). */
export function tw<T>(page: Page, f: (t: Record<string, unknown>) => T): Promise<T> {
  return page.evaluate(`(${f.toString()})(window.tickwire)`) as Promise<T>;
}

/** Collects page errors and console errors, to assert a clean run. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return errors;
}

/** The key that moves a player at (x, y) furthest in half a second (walls are in the way of some). */
export function freeDirection(x: number, y: number): { key: string; dx: number; dy: number } {
  const options = [
    { key: 'KeyD', btn: BTN_RIGHT, dx: 1, dy: 0 }, { key: 'KeyA', btn: BTN_LEFT, dx: -1, dy: 0 },
    { key: 'KeyS', btn: BTN_DOWN, dx: 0, dy: 1 }, { key: 'KeyW', btn: BTN_UP, dx: 0, dy: -1 },
  ];
  let best = options[0];
  let bestDist = -1;
  for (const o of options) {
    let p = { x, y };
    for (let i = 0; i < 15; i++) p = movePlayer(p.x, p.y, o.btn, 1 / 30);
    const d = Math.hypot(p.x - x, p.y - y);
    if (d > bestDist) { best = o; bestDist = d; }
  }
  return best;
}
