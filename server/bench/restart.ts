/**
 * A standalone restart as players see it: a real server process with STATE_FILE in a
 * temp directory, N players in one room (each the shared ReconnectingSocket and
 * NetClient, as the browser), then SIGTERM and a new process, R times. Prints, per
 * restart, how long after the new process answered /healthz each player had its seat
 * back (resumed WELCOME), and whether ids held with 0 desyncs. Loopback only.
 *
 *   npm run bench:restart -- [--players 16] [--restarts 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClusterClient, token } from '../../test/helpers/cluster-client.ts';
import { startInstance } from '../deploy/instance.ts';
import { freePort, type Proc } from '../deploy/procs.ts';

const { values } = parseArgs({ options: { players: { type: 'string', default: '16' }, restarts: { type: 'string', default: '3' } } });
const players = Number(values.players);
const restarts = Number(values.restarts);
if (!(players >= 1 && players <= 64 && restarts >= 1 && restarts <= 20)) {
  console.error('bench:restart: --players 1..64, --restarts 1..20');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'tickwire-restart-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const start = async (): Promise<{ proc: Proc; at: number }> => {
  const env = { SECRET: 'bench-restart', NPC_COUNT: '24', STATE_FILE: join(dir, 'rooms.state'), LOG_LEVEL: 'warn', REDIS_URL: '' };
  const { proc } = await startInstance({ id: 'server', port, env, log: (l) => console.log(l), pollMs: 10 });
  return { proc, at: performance.now() };
};

let s = await start();
const ps: ClusterClient[] = [];
try {
  for (let i = 0; i < players; i++) ps.push(new ClusterClient(`ws://127.0.0.1:${port}/ws`, 'RESTA', await token(base, `p${i}`), base));
  await Promise.all(ps.map((p) => p.until(() => p.live, 'a player joining', 10_000)));
  console.log(`bench:restart: ${players} players in room RESTA on ${base}; ${restarts} restart(s)`);
  const all: number[] = [];
  for (let k = 1; k <= restarts; k++) {
    await s.proc.stop('SIGTERM');
    s = await start();
    await Promise.all(ps.map((p) => p.until(() => p.welcomes.length > k && p.live, 'a player back', 15_000)));
    const back = ps.map((p) => p.welcomes[k].at - s.at).sort((a, b) => a - b);
    all.push(...back);
    const resumed = ps.filter((p) => p.welcomes[k].resumed && p.welcomes[k].playerId === p.welcomes[0].playerId).length;
    const desyncs = ps.reduce((n, p) => n + p.net.stats.desyncs, 0);
    console.log(`restart ${k}: back ${back[0].toFixed(0)}–${back[back.length - 1].toFixed(0)} ms after the new process answered, `
      + `${resumed}/${players} in their own seat, ${desyncs} desyncs`);
  }
  all.sort((a, b) => a - b);
  console.log(`all restarts: p50 ${all[Math.floor(all.length / 2)].toFixed(0)} ms, p99 ${all[Math.min(all.length - 1, Math.floor(all.length * 0.99))].toFixed(0)} ms, max ${all[all.length - 1].toFixed(0)} ms (target ≤ 2000 ms)`);
} finally {
  for (const p of ps) p.close();
  await s.proc.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
