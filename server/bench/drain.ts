/**
 * Draining an instance as players see it: a real 2-instance cluster (redis-server, two
 * instance processes, nginx; server/deploy/cluster.ts), R rooms of P bots (the load
 * test's, playing `combat`) all on one instance, then that instance is drained (SIGTERM)
 * and started again, and the other one drained, D times in all: every drain moves every
 * room. Prints each drain's time (the instance's own "drain: done" line, and SIGTERM to
 * exit), then what the bots measured over all moves: the pause in snapshots each move
 * cost and MOVE → back in the seat (resumed WELCOME), with desyncs. Loopback only.
 *
 *   npm run bench:drain -- [--rooms 1] [--players 16] [--drains 3]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { formatReport } from '../../load-test/report.ts';
import { runLoadTest } from '../../load-test/run.ts';
import { startCluster } from '../deploy/cluster.ts';
import { getJson, waitUntil } from '../deploy/procs.ts';

const { values } = parseArgs({
  options: { rooms: { type: 'string', default: '1' }, players: { type: 'string', default: '16' }, drains: { type: 'string', default: '3' } },
});
const rooms = Number(values.rooms);
const players = Number(values.players);
const drains = Number(values.drains);
if (!(rooms >= 1 && rooms <= 200 && players >= 1 && players <= 16 && drains >= 1 && drains <= 10)) {
  console.error('bench:drain: --rooms 1..200, --players 1..16, --drains 1..10');
  process.exit(2);
}
const bots = rooms * players;
const lines: string[] = [];
const c = await startCluster({
  instances: 2, port: 0,
  env: { TICK_RATE: '30', NPC_COUNT: '8', MAX_PLAYERS_PER_ROOM: '16', LOG_LEVEL: 'info', DRAIN_DEADLINE_S: '10' },
  log: (l) => { if (/drain: |did not take|refused|error|warn/.test(l)) lines.push(l); },
});
interface Health { clients: number; rooms: number }
const health = (id: string) => getJson<Health>(`${c.url}/i/${id}/healthz`);
try {
  // Every room on a: b is down while the bots join, and comes back empty.
  await c.instances[1].proc.stop('SIGTERM');
  const cycle = 8; // s per drain: the drained instance's restart (~3 s) and a few seconds of play
  const run = runLoadTest({
    url: `ws://127.0.0.1:${c.port}/ws`, bots, rooms, durationS: 4 + drains * cycle, workers: bots > 200 ? 2 : 1, rampPerS: 400,
    progress: false, scenario: 'combat',
  }, () => {});
  await waitUntil(`${bots} bots on instance a`, async () => (await health('a'))?.clients === bots, { timeoutMs: 30_000 });
  await c.start('b');
  console.log(`bench:drain: ${rooms} room(s) × ${players} bots at 30 Hz through nginx; ${drains} drain(s), each moving every room`);
  let from = 'a';
  for (let k = 1; k <= drains; k++) {
    const to = from === 'a' ? 'b' : 'a';
    await new Promise((r) => setTimeout(r, 2000)); // play on the new owner for a while
    const seen = lines.length;
    const t0 = performance.now();
    const proc = c.instances.find((i) => i.id === from)!.proc;
    const code = await proc.stop('SIGTERM', 60_000); // drains into `to`, lingers, exits
    const exitMs = performance.now() - t0;
    const done = lines.slice(seen).find((l) => l.startsWith(`[${from}]`) && l.includes('drain: done'));
    const on = await health(to);
    await c.start(from); // back, empty, for the next drain
    console.log(`drain ${k}: ${from} → ${to}: ${done?.replace(/^\[\w+\] \[\w+\] /, '') ?? '(no "drain: done" line)'}; `
      + `exit ${code} ${exitMs.toFixed(0)} ms after SIGTERM; ${to} holds ${on?.rooms} room(s), ${on?.clients} client(s); `
      + `${from} back ${((performance.now() - t0) / 1000).toFixed(1)} s after SIGTERM`);
    from = to;
  }
  const report = await run;
  console.log(formatReport(report));
  const m = report.moves;
  if (m) {
    console.log(`moves: ${report.bots.moved} (${report.bots.resumed} resumed), pause p99 ${m.pause_ms.p99} ms (target ≤ 500), `
      + `back in seat p99 ${m.resume_ms.p99} ms (target ≤ 1000), ${report.desyncs} desyncs, ${report.bots.failed} failed`);
  }
  for (const l of lines) if (/did not take|refused|error|warn/.test(l) && !/handed to/.test(l)) console.log(l);
} finally {
  await c.stop();
}
