/**
 * The browser client against a real cluster (redis-server, two instances, nginx in
 * front): two Chromium pages whose first sockets reach different instances through
 * nginx (`?instance=` pins the first one to an instance's prefix) end in the same room
 * and see each other move. Then the room's instance drains (POST /api/admin/drain, as a
 * deploy would) and both pages move with the room to the other instance, seats and
 * scores kept, shown only a short reconnect; the drained instance starts again. Last, the
 * room's instance is SIGKILLed and both pages come back by themselves into the room
 * reopened on the other instance, told it restarted.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCluster, startCluster } from '../server/deploy/cluster.ts';
import { haveBinaries } from './helpers/binaries.ts';
import {
  type BrowserHandle, earnPoint, enterName, ensureClientBuilt, launchBrowser, recordStatus, statusTexts, tw, waitConnected,
} from './helpers/browser.ts';

interface Seen { id: number; x: number; y: number; own: boolean }
interface TW {
  tickwire: { players: Seen[]; instance: string; redirects: number; moves: number; restarts: number; state: string; playerId: number; score: number };
}

const enabled = haveBinaries('redis-server', 'nginx', 'chromium');

describe.skipIf(!enabled)('browser clients on a cluster behind nginx (Chromium)', () => {
  let c: RunningCluster;
  let browsers: BrowserHandle[] = [];
  let a: Page;
  let b: Page;
  const errors: string[] = [];
  let code = '';
  let owner = '';

  beforeAll(async () => {
    ensureClientBuilt();
    [c, ...browsers] = await Promise.all([
      startCluster({ instances: 2, port: 0, env: { NPC_COUNT: '12', CLUSTER_HEARTBEAT_S: '0.5', CLUSTER_TTL_S: '2', LOG_LEVEL: 'warn' } }),
      launchBrowser(), launchBrowser(),
    ]) as [RunningCluster, BrowserHandle, BrowserHandle];
    a = await browsers[0].context.newPage();
    b = await browsers[1].context.newPage();
    for (const p of [a, b]) p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  }, 90_000);

  afterAll(async () => {
    for (const br of browsers) await br.close();
    await c?.stop();
  });

  it('two pages reaching different instances through nginx end in the same room and see each other move', async () => {
    const created = (await (await fetch(`${c.url}/api/rooms`, { method: 'POST' })).json()) as { code: string; instance: string };
    code = created.code;
    owner = created.instance;
    const other = c.instances.find((i) => i.id !== owner)?.id as string;
    // Each page's first socket goes to one instance's prefix on the front: the owner, and the other one.
    // (The room opens with its first player: Ada's join makes it exist before Bob opens the link.)
    await a.goto(`${c.url}/?instance=${owner}#/r/${code}`);
    await a.locator('#join-button').waitFor();
    await enterName(a, 'Ada', 'join');
    await waitConnected(a);
    await b.goto(`${c.url}/?instance=${other}#/r/${code}`);
    await b.locator('#join-button').waitFor();
    await enterName(b, 'Bob', 'join');
    await waitConnected(b);
    expect(await tw(a, (t) => t.instance)).toBe(owner);
    expect(await tw(b, (t) => t.instance)).toBe(owner);
    expect(await tw(a, (t) => t.redirects)).toBe(0);
    expect(await tw(b, (t) => t.redirects)).toBe(1); // reached `other`, was sent to the owner
    expect(await tw(b, (t) => (t.stateLog as string[]).includes('reconnecting'))).toBe(false); // no error shown on the way

    const aId = await tw(a, (t) => t.playerId as number);
    await b.waitForFunction((id) => (window as unknown as TW).tickwire.players.some((p) => p.id === id), aId);
    const start = (await tw(b, (t) => t.players as Seen[])).find((p) => p.id === aId) as Seen;
    // Walk right, then left if a wall is there: B must see A move by 30 u.
    for (const key of ['KeyD', 'KeyA']) {
      await a.keyboard.down(key);
      const moved = await b.waitForFunction(({ id, x, y }) => {
        const p = (window as unknown as TW).tickwire.players.find((q) => q.id === id);
        return p && Math.hypot(p.x - x, p.y - y) > 30;
      }, { id: aId, x: start.x, y: start.y }, { timeout: 4000 }).then(() => true, () => false);
      await a.keyboard.up(key);
      if (moved) break;
      if (key === 'KeyA') throw new Error('B never saw A move');
    }
    expect(await tw(a, (t) => t.desyncs)).toBe(0);
    expect(await tw(b, (t) => t.desyncs)).toBe(0);
  }, 60_000);

  it('when the room\'s instance drains, both pages move with the room to the other instance, same seat and score, shown a short reconnect', async () => {
    await earnPoint(a, 40_000); // something on the scoreboard to keep
    const before = await Promise.all([a, b].map(async (p) => ({ id: await tw(p, (t) => t.playerId as number), score: await tw(p, (t) => t.score as number) })));
    for (const p of [a, b]) await recordStatus(p);
    const logFrom = await Promise.all([a, b].map((p) => tw(p, (t) => (t.stateLog as string[]).length)));
    const drained = c.instances.find((i) => i.id === owner) as RunningCluster['instances'][number];
    const other = c.instances.find((i) => i.id !== owner)?.id as string;
    const res = await fetch(`${c.url}/i/${owner}/api/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${c.adminToken}` } });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ draining: true, instance: owner, rooms: 1, players: 2 });
    expect(await drained.proc.exited).toBe(0);
    for (const [k, p] of [a, b].entries()) {
      await p.waitForFunction(({ to }) => {
        const t = (window as unknown as TW).tickwire;
        return t.state === 'connected' && t.instance === to && t.moves === 1;
      }, { to: other }, { timeout: 10_000 });
      expect(await tw(p, (t) => t.playerId)).toBe(before[k].id);
      expect(await tw(p, (t) => t.score as number)).toBeGreaterThanOrEqual(before[k].score);
      expect(await tw(p, (t) => t.restarts)).toBe(0); // the same room, not a fresh one
      expect(await tw(p, (t) => t.desyncs)).toBe(0);
      // The pill said the server moves us, then connected: never offline, never an error.
      const shown = await statusTexts(p);
      expect(shown.some((t) => /moving you to another server/.test(t)), shown.join(' | ')).toBe(true);
      expect(shown.some((t) => /Offline|Disconnected/.test(t)), shown.join(' | ')).toBe(false);
      const log = (await tw(p, (t) => t.stateLog as string[])).slice(logFrom[k]);
      expect(log.at(-1)).toBe('connected');
      expect(log.filter((s) => s === 'offline' || s === 'closed')).toEqual([]);
    }
    expect(before[0].score).toBeGreaterThanOrEqual(1);
    // The deploy's second half: the drained instance starts again, empty, for the next test.
    await c.start(owner);
    owner = other;
  }, 90_000);

  it('when the room\'s instance dies, both pages are back in the room on the other instance, told it restarted', async () => {
    const victim = c.instances.find((i) => i.id === owner) as RunningCluster['instances'][number];
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited;
    for (const p of [a, b]) {
      await p.waitForFunction(({ dead }) => {
        const t = (window as unknown as TW).tickwire;
        return t.state === 'connected' && t.instance !== dead && t.restarts >= 1;
      }, { dead: owner }, { timeout: 20_000 });
      await p.locator('#chat-log li', { hasText: 'room was restarted' }).waitFor({ timeout: 5000 });
      expect(await tw(p, (t) => t.room)).toBe(code);
    }
    // They are in one room again, and see each other.
    const bId = await tw(b, (t) => t.playerId as number);
    await a.waitForFunction((id) => (window as unknown as TW).tickwire.players.some((p) => p.id === id), bId, { timeout: 10_000 });
    expect(errors).toEqual([]);
  }, 40_000);
});
