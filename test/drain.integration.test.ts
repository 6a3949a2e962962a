/**
 * Draining an instance for a deploy, with real parts: a redis-server, instance processes
 * and the load test's bots. SIGTERM on a room's owner hands the room (world, seats,
 * scores, round clock) through Redis to the other instance and moves every player
 * there; when Redis cannot be reached, or nobody takes a room before DRAIN_DEADLINE_S, the
 * drain saves the room to the state file instead; an instance that refuses is skipped.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_RESTARTING } from '../netcode/protocol.ts';
import { runLoadTest } from '../load-test/run.ts';
import { type Instance, startInstance } from '../server/deploy/instance.ts';
import { freePort } from '../server/deploy/procs.ts';
import { type RedisServer, startRedis } from '../server/deploy/redis-server.ts';
import { decodeSavedRooms } from '../server/roomstate.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { ClusterClient, type GameSummary, token } from './helpers/cluster-client.ts';

const enabled = haveBinaries('redis-server');
const SECRET = 'drain-test-secret';
const ADMIN = 'drain-test-admin-token';

describe.skipIf(!enabled)('draining an instance of a cluster', () => {
  let redis: RedisServer;
  let dir: string;
  const logs: string[] = [];
  const running = new Map<string, Instance>();
  const clients: ClusterClient[] = [];

  const envOf = (id: string, port: number): Record<string, string> => ({
    REDIS_URL: redis.url, PUBLIC_URL: `http://127.0.0.1:${port}`, SECRET, ADMIN_TOKEN: ADMIN, NPC_COUNT: '4',
    CLUSTER_TTL_S: '2', STATE_FILE: join(dir, `${id}.state`), TRUSTED_PROXIES: '',
  });
  const start = async (id: string, port?: number, env: Record<string, string> = {}): Promise<Instance> => {
    const p = port ?? (await freePort());
    const i = await startInstance({ id, port: p, env: { ...envOf(id, p), ...env }, log: (l) => logs.push(l) });
    running.set(id, i);
    return i;
  };
  const owner = async (base: string, code: string) =>
    ((await (await fetch(`${base}/api/rooms/${code}`)).json()) as { instance: string; players: number });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tickwire-drain-'));
    redis = await startRedis({});
    await Promise.all([start('a'), start('b')]);
  }, 40_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const i of running.values()) await i.proc.stop('SIGKILL');
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM mid-round: every bot moves with the room to the other instance and resumes, scores and clock kept, 0 desyncs', async () => {
    const a = running.get('a')!;
    const watcher = new ClusterClient(`ws://127.0.0.1:${a.port}/ws`, 'LTAAA', await token(a.http, 'Watcher'), a.http);
    clients.push(watcher);
    await watcher.until(() => watcher.live && watcher.snapshots > 3, 'the watcher in room LTAAA', 8000);
    const from = running.get(watcher.instance)!;
    const to = [...running.values()].find((i) => i !== from)!;
    // The bots join through the instance that will stay: redirected to the owner, then moved back.
    const bots = 11;
    const run = runLoadTest({
      url: `ws://127.0.0.1:${to.port}/ws`, bots, rooms: 1, durationS: 9, workers: 1, rampPerS: 0, progress: false, scenario: 'combat',
    }, () => {});
    await watcher.until(() => watcher.net.roster.size === bots + 1, 'every bot in the room', 10_000);
    // Mid-round, with something on the scoreboard when possible.
    const scored = (g: GameSummary | null) => [...(g?.players.values() ?? [])].some((p) => p.score > 0);
    await watcher.until(() => watcher.snapshots > 90, 'three seconds of play', 10_000);
    const t0 = performance.now();
    expect(await from.proc.stop('SIGTERM')).toBe(0); // drained, then exited 0
    running.delete(from.id);
    const drainMs = performance.now() - t0;

    await watcher.until(() => watcher.moves.length === 1 && watcher.firsts.length === 2, 'the watcher moved and playing', 5000);
    const move = watcher.moves[0];
    expect(move.instance).toBe(to.id);
    expect(watcher.welcomes[1]).toMatchObject({ instance: to.id, resumed: true, playerId: watcher.welcomes[0].playerId });
    const before = move.last!;
    const after = watcher.firsts[1];
    expect(after.base).toBe(0); // a full snapshot: the new owner held no baseline of ours
    // The same round and clock, a few ticks on (the room waited while its players moved), and nobody's score lost.
    expect(after.game.round.number).toBe(before.round.number);
    expect(after.game.tick - before.tick).toBeGreaterThanOrEqual(1);
    expect(after.game.tick - before.tick).toBeLessThan(30);
    expect(before.round.time - after.game.round.time).toBeLessThanOrEqual(1);
    expect([...after.game.players.keys()].sort()).toEqual([...before.players.keys()].sort());
    for (const [id, p] of before.players) {
      const q = after.game.players.get(id)!;
      expect(q.score).toBeGreaterThanOrEqual(p.score);
      expect(q.kills + q.deaths - p.kills - p.deaths).toBeLessThanOrEqual(2);
    }
    expect(after.at - move.at).toBeLessThan(1000); // back in the seat within a second of the MOVE

    const report = await run;
    const why = JSON.stringify(report.error_kinds);
    expect(report.bots.connected, why).toBe(bots);
    expect(report.bots.failed, why).toBe(0);
    expect(report.bots.moved, why).toBe(bots);
    expect(report.bots.resumed, why).toBeGreaterThanOrEqual(bots);
    expect(report.bots.dropped).toBe(0);
    expect(report.bots.disconnected, why).toBe(0);
    expect(report.bots.live_at_end).toBe(bots);
    expect(report.desyncs).toBe(0);
    expect(watcher.net.stats.desyncs).toBe(0);
    expect((await owner(to.http, 'LTAAA')).instance).toBe(to.id);
    expect(logs.some((l) => new RegExp(`drain: room LTAAA \\(12 seat\\(s\\), 12 connected\\) handed to instance ${to.id}`).test(l)), logs.join('\n')).toBe(true);
    expect(logs.some((l) => /drain: done in \d+ ms: 1 room\(s\) handed over \(12 player\(s\) moved\), 0 saved/.test(l))).toBe(true);
    expect(drainMs).toBeLessThan(5000);
    expect(await (await fetch(`${to.http}/metrics`)).text()).toMatch(/^tickwire_handover_received_total 1$/m);
    if (!scored(before)) process.stderr.write('note: nobody had scored before the drain; scores were compared at 0\n');
  }, 60_000);

  it('a drain that cannot reach Redis saves the room to the state file, and the restarted instance gives the player its seat back', async () => {
    const [survivor] = [...running.values()];
    const c = await start('c');
    // Room DRAIN on c: the other instance holds the bots' room, so c is the least loaded.
    const p = new ClusterClient(`ws://127.0.0.1:${c.port}/ws`, 'DRAIN', await token(c.http, 'Sol'), c.http);
    clients.push(p);
    await p.until(() => p.live && p.snapshots > 5, 'Sol playing on c', 8000);
    expect(p.instance).toBe('c');
    const id = p.net.playerId;
    const back = redis.restart(2500); // SIGKILL now, a fresh Redis in 2.5 s
    await new Promise((r) => setTimeout(r, 200)); // the instances see the connection close
    expect(await c.proc.stop('SIGTERM')).toBe(0);
    running.delete('c');
    expect(logs.some((l) => /drain: Redis is unreachable .*; saving the rooms instead/.test(l)), logs.join('\n')).toBe(true);
    const file = join(dir, 'c.state');
    expect(existsSync(file)).toBe(true);
    expect(decodeSavedRooms(readFileSync(file)).rooms.map((r) => [r.code, r.seats[0].playerId])).toEqual([['DRAIN', id]]);
    await p.until(() => p.states.some((s) => s.code === CLOSE_RESTARTING), 'Sol told the server restarts', 3000);
    await back;
    await start('c', c.port);
    await p.until(() => p.welcomes.length === 2 && p.live, 'Sol back on c', 15_000);
    expect(p.welcomes[1]).toMatchObject({ instance: 'c', resumed: true, playerId: id });
    expect(existsSync(file)).toBe(false);
    expect(survivor).toBeDefined();
  }, 60_000);

  it('an instance that refuses the room is logged with its reason and the next one takes it', async () => {
    const c = running.get('c')!;
    const survivor = [...running.values()].find((i) => i.id !== 'c')!;
    // An empty instance at another tick rate: the least loaded, so asked first, and it must refuse.
    await start('e', undefined, { TICK_RATE: '20' });
    const p = clients.at(-1)!; // Sol, in room DRAIN on c
    const id = p.net.playerId;
    expect(await c.proc.stop('SIGTERM')).toBe(0);
    running.delete('c');
    expect(logs.some((l) => /drain: instance e did not take room DRAIN: sent at 30 Hz, this instance runs at 20 Hz \(TICK_RATE\)/.test(l)), logs.join('\n')).toBe(true);
    expect(logs.some((l) => /\[e\] \[warn\] handover: refused room DRAIN from instance c: sent at 30 Hz/.test(l))).toBe(true);
    await p.until(() => p.moves.length === 1 && p.live && p.instance === survivor.id, 'Sol moved to the instance that took the room', 8000);
    expect(p.welcomes.at(-1)).toMatchObject({ resumed: true, playerId: id });
    expect(await (await fetch(`${running.get('e')!.http}/metrics`)).text()).toMatch(/^tickwire_handover_refused_total 1$/m);
    expect(await running.get('e')!.proc.stop('SIGTERM')).toBe(0); // nothing to drain
    running.delete('e');
  }, 40_000);

  it('a room nobody takes before DRAIN_DEADLINE_S is saved to the state file and its player told the server restarts', async () => {
    const h = await start('h', undefined, { DRAIN_DEADLINE_S: '1' }); // empty: the new room goes here
    const p = new ClusterClient(`ws://127.0.0.1:${h.port}/ws`, 'STUCK', await token(h.http, 'Ray'), h.http);
    clients.push(p);
    await p.until(() => p.live && p.snapshots > 3, 'Ray playing on h', 8000);
    expect(p.instance).toBe('h');
    // An instance that is registered but does not answer (stopped): the least loaded, so asked.
    const g = await start('g');
    g.proc.child.kill('SIGSTOP');
    try {
      const t0 = performance.now();
      expect(await h.proc.stop('SIGTERM')).toBe(0);
      running.delete('h');
      expect(performance.now() - t0).toBeLessThan(4000);
      expect(logs.some((l) => /\[h\] .*drain: instance g did not take room STUCK: no answer from instance g within 1\.0 s/.test(l)), logs.join('\n')).toBe(true);
      expect(logs.some((l) => /\[h\] .*saved 1 room\(s\) with 1 seat\(s\) to /.test(l))).toBe(true);
      expect(decodeSavedRooms(readFileSync(join(dir, 'h.state'))).rooms.map((r) => r.code)).toEqual(['STUCK']);
      await p.until(() => p.states.some((s) => s.code === CLOSE_RESTARTING), 'Ray told the server restarts', 3000);
    } finally {
      g.proc.child.kill('SIGCONT');
    }
  }, 40_000);
});
