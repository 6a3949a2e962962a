/**
 * `npm run bench:transport [-- --seconds 20 --players 16 --spectators 1000 --no-pin]`
 *
 * Two figures of issue 17, each from a fresh server (pinned to cpu 0 when taskset exists;
 * the bots take the other cores), 30 Hz, loopback only, stopping by itself:
 *
 * 1. SSE against WebSocket in the same run: one server, `--players` bots over the
 *    WebSocket in one room and as many over SSE + POST in another, at once. Prints each
 *    side's RTT p50/p99 (bots: a PING a second behind 30 INPUTs; probe: an idle client
 *    pinging 10 times a second) and desyncs, and the SSE/WS ratio of the p99s.
 * 2. What spectators cost: the server's CPU (s/s over the load test's window) for
 *    (a) one room of `--players` bots, (b) the same with `--spectators` spectators
 *    watching it, (c) the same bots plus `--spectators` more players in rooms of
 *    `--players`. (b − a) is what the spectators cost, (c − a) what as many players do
 *    (their snapshot fan-out, and also their inputs and simulation). Prints both and
 *    their ratio. Each run is a separate server a few seconds apart: the host's speed
 *    may drift between them (BENCHMARKS.md (a)), so read the ratio to ±15 %.
 */
import { parseArgs } from 'node:util';
import type { Report } from './report.ts';
import { runLoadTest } from './run.ts';
import { pinSelf, startServerProcess } from './server-process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' }, players: { type: 'string', default: '16' }, spectators: { type: 'string', default: '1000' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const players = Number(values.players);
const spectators = Number(values.spectators);
for (const [name, v, lo, hi] of [['--seconds', seconds, 8, 600], ['--players', players, 1, 50], ['--spectators', spectators, 1, 5000]] as const) {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${name} must be a whole number in ${lo}..${hi}, got ${v}`);
}
const pin = !values['no-pin'];
if (pin) pinSelf('1-63');
const log = (s: string) => process.stderr.write(`${s}\n`);
const env = { TICK_RATE: '30', MAX_PLAYERS_PER_ROOM: String(Math.max(players, 16)), MAX_SPECTATORS_PER_ROOM: String(spectators), REPLAY_DIR: '' };
const quiet = { progress: false, probe: true, rampPerS: 400, scenario: 'move' as const };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f1 = (v: number | undefined) => (v ?? Number.NaN).toFixed(1);

async function withServer<T>(extra: Record<string, string>, run: (url: string) => Promise<T>): Promise<T> {
  const srv = await startServerProcess({ env: { ...env, ...extra }, cpus: pin ? '0' : undefined, log });
  try {
    return await run(srv.endpoint.ws);
  } finally {
    await srv.stop();
  }
}

// 1. Both transports against one server, at once. The SSE run starts once the WebSocket run's
// room is busy, so it picks the next free room code; it ends first, inside the other's window.
const [ws, sse] = await withServer({}, async (url) => {
  const a = runLoadTest({ ...quiet, url, bots: players, rooms: 1, durationS: seconds + 6, transport: 'ws' }, () => {});
  await sleep(3000);
  const b = runLoadTest({ ...quiet, url, bots: players, rooms: 1, durationS: seconds, transport: 'sse' }, () => {});
  return Promise.all([a, b]);
});
const line = (name: string, r: Report) =>
  `${name.padEnd(4)} bots rtt p50 ${f1(r.rtt_ms.p50)} p99 ${f1(r.rtt_ms.p99)} ms, probe p50 ${f1(r.probe_rtt_ms?.p50)} p99 ${f1(r.probe_rtt_ms?.p99)} ms, `
  + `desyncs ${r.desyncs}, ${r.bots.connected}/${r.bots.requested} connected`;
console.log(`== SSE + POST against WebSocket, ${players} players each, same server, ${seconds} s at 30 Hz`);
console.log(line('ws', ws));
console.log(line('sse', sse));
console.log(`sse/ws rtt p99: bots ${(sse.rtt_ms.p99 / ws.rtt_ms.p99).toFixed(2)}×, probe ${((sse.probe_rtt_ms?.p99 ?? 0) / (ws.probe_rtt_ms?.p99 ?? 1)).toFixed(2)}× (target ≤ 2×)`);

// 2. Spectators' CPU against as many players'.
const cpuOf = (r: Report) => r.server.cpu_s_per_s;
const base = await withServer({}, (url) => runLoadTest({ ...quiet, url, bots: players, rooms: 1, durationS: seconds }, () => {}));
const watched = await withServer({}, (url) => runLoadTest({ ...quiet, url, bots: players, rooms: 1, durationS: seconds, spectators }, () => {}));
const rooms = 1 + Math.ceil(spectators / players);
const more = await withServer({}, (url) => runLoadTest({ ...quiet, url, bots: players + spectators, rooms, durationS: seconds }, () => {}));
const specCost = cpuOf(watched) - cpuOf(base);
const playerCost = cpuOf(more) - cpuOf(base);
console.log(`== ${spectators} spectators of one room against ${spectators} more players, server CPU (s/s over the window), ${seconds} s each`);
console.log(`(a) ${players} players in 1 room:                  ${cpuOf(base).toFixed(3)}`);
console.log(`(b) the same + ${spectators} spectators watching it: ${cpuOf(watched).toFixed(3)}  (spectators: ${watched.spectators?.connected ?? 0} connected, `
  + `${f1(watched.spectators?.snapshots_per_s)} snapshots/s each, desyncs ${watched.spectators?.desyncs ?? '?'}, `
  + `${Math.round(watched.server.snapshots_shared * 1000) / 10} % of snapshots shared)`);
console.log(`(c) ${players + spectators} players in ${rooms} rooms:             ${cpuOf(more).toFixed(3)}  (desyncs ${more.desyncs}, ${more.bots.connected}/${more.bots.requested} connected)`);
console.log(`spectators cost ${specCost.toFixed(3)} s/s, players ${playerCost.toFixed(3)} s/s: ${(specCost / playerCost).toFixed(2)}× (target ≤ 1.2×)`);
