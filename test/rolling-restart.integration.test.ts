/**
 * A deploy of a whole cluster while it is played: `npm run cluster` (a redis-server,
 * three instances, nginx) gets SIGHUP and restarts its instances one by one, each
 * draining its rooms to the others first, while the load test's bots play through
 * nginx. No bot may end up outside a room, and none may desync.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runLoadTest } from '../load-test/run.ts';
import { freePort, type Proc, spawnProc } from '../server/deploy/procs.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { Waits } from './helpers/waits.ts';

const enabled = haveBinaries('redis-server', 'nginx');

describe.skipIf(!enabled)('a rolling restart of `npm run cluster`', () => {
  let cluster: Proc | undefined;
  afterAll(async () => {
    await cluster?.stop('SIGTERM', 20_000);
  });

  it('restarts all 3 instances while 30 bots play: every bot ends in its room, moved not dropped, 0 desyncs', async () => {
    const lines: string[] = [];
    const seen = new Waits();
    const port = await freePort();
    cluster = spawnProc('cluster', process.execPath, ['--import', 'tsx', 'server/deploy/cluster.ts', '--instances', '3', '--port', String(port), '--quiet'], {
      env: { ...process.env, NPC_COUNT: '4', LOG_LEVEL: 'warn' },
      log: (l) => { lines.push(l); seen.wake(); },
    });
    await seen.until(() => lines.some((l) => l.includes(`cluster ready at http://127.0.0.1:${port}`)), 'the cluster ready', 40_000);

    const bots = 30;
    const run = runLoadTest({
      url: `ws://127.0.0.1:${port}/ws`, bots, rooms: 3, durationS: 24, workers: 1, rampPerS: 0, progress: false, scenario: 'combat',
    }, () => {});
    await new Promise((r) => setTimeout(r, 3000)); // every bot in, playing
    cluster.child.kill('SIGHUP');
    await seen.until(() => lines.some((l) => l.includes('cluster: rolling restart done')), 'the rolling restart', 60_000);
    for (const id of ['a', 'b', 'c']) {
      expect(lines.some((l) => new RegExp(`cluster: instance ${id} drained \\(exit 0\\) and back`).test(l)), lines.join('\n')).toBe(true);
    }
    const report = await run;
    const why = JSON.stringify(report.error_kinds);
    expect(report.bots.connected, why).toBe(bots);
    expect(report.bots.failed, why).toBe(0);
    expect(report.bots.disconnected, why).toBe(0);
    expect(report.bots.live_at_end, why).toBe(bots);
    // Every room was on one of the three instances: each of its bots moved at least once.
    expect(report.bots.moved).toBeGreaterThanOrEqual(bots);
    expect(report.desyncs).toBe(0);
  }, 120_000);
});
