/**
 * `runLoadTest(opts)`: the whole run, used by the CLI and the smoke test.
 *
 *   1. /healthz must answer (fails fast with a clear error otherwise); pick free rooms;
 *   2. start the workers and ramp the bots in; wait until each connected or failed;
 *      then the RTT probe (probe.ts) joins a room of its own;
 *   3. settle 1 s, then measure `durationS` seconds between two marks and two
 *      /healthz polls (in a cluster, of every instance; with --redis, two readings of
 *      Redis's command counts); a live line goes to stderr every second throughout;
 *   4. close every bot normally, build the report, write --json / --html.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Counters } from './counters.ts';
import { type Endpoint, endpoint } from './endpoint.ts';
import { busyRooms, fetchHealthz, HealthPoller } from './healthz.ts';
import { renderHtml } from './html.ts';
import { type ClusterPoll, combineHealthz, listInstances, pollInstances } from './instances.ts';
import { type CommandCounts, ownBetween, readCommandStats } from './redis-stats.ts';
import { LIMITS, type LoadTestOptions, resolveOptions, roomCode } from './options.ts';
import { buildReport, type Report, type ReportInput, type SeriesPoint } from './report.ts';
import { policyFor } from './games.ts';
import { Probe } from './probe.ts';
import { Swarm } from './swarm.ts';

/**
 * Room i of the run is the i-th code LTAAA, LTAAB, … that holds no players: a previous
 * run's seats stay held for the server's resume grace, and joining them would find them full.
 */
async function pickRooms(ep: Endpoint, n: number): Promise<string[]> {
  const busy = await busyRooms(ep);
  const codes: string[] = [];
  for (let i = 0; codes.length < n && i < LIMITS.maxRooms; i++) if (!busy.has(roomCode(i))) codes.push(roomCode(i));
  if (codes.length < n) throw new Error(`only ${codes.length} free LT rooms on the server, ${n} wanted`);
  return codes;
}

/** The PEM text of --ca, read once here and handed to every worker. */
function readCa(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--ca ${file}: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--ca ${file}: no PEM certificate in it (a key, or the wrong file?)`);
  return pem;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `a 500 b 500`: live bots by instance, for the live line. */
const perInstance = (m: Record<string, number>) => Object.entries(m).map(([id, n]) => `${id} ${n}`).join(' ') || '-';
const f1 = (v: number) => v.toFixed(1);

export async function runLoadTest(
  partial: Partial<LoadTestOptions> & { url: string },
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<Report> {
  const o = resolveOptions(partial);
  const ep = endpoint(o.url, readCa(o.ca));
  const clustered = (await fetchHealthz(ep)).cluster?.enabled === true;
  // The front's /healthz is whichever instance nginx picked: a cluster's is read from each instance.
  const instances = clustered ? await listInstances(ep) : [];
  // At the window's ends: the instances listed then (an instance may have joined or died), or,
  // should the listing fail (it may need Redis), those of the start. Never fails the run.
  const pollCluster = async (): Promise<ClusterPoll> => pollInstances(ep, await listInstances(ep).catch(() => instances));
  if (o.redis) await readCommandStats(o.redis); // fail fast on a wrong --redis, before the ramp
  const readRedis = async (): Promise<{ counts: CommandCounts; at: number } | undefined> => {
    if (!o.redis) return undefined;
    try {
      return { counts: await readCommandStats(o.redis), at: performance.now() };
    } catch (err) {
      log(`redis: ${(err as Error).message}; no Redis figures in this report`);
      return undefined;
    }
  };
  const codes = await pickRooms(ep, o.rooms + 1); // the last one is the RTT probe's
  if (o.progress) {
    log(`rooms ${codes[0]}…${codes[o.rooms - 1]} (${o.rooms}), ${o.bots} bots${o.spectators ? ` + ${o.spectators} spectators` : ''}, `
      + `${o.workers} worker(s), over ${o.transport === 'sse' ? 'SSE + POST' : 'WebSocket'}`);
  }
  const probe = o.probe ? new Probe(ep, codes[o.rooms], policyFor(o.game).schema, o.transport) : null;
  const swarm = new Swarm({ ...o, endpoint: ep, roomOf: (i) => codes[i % o.rooms] });
  const poller = new HealthPoller(clustered
    ? (t) => pollInstances(ep, instances, t).then((p) => combineHealthz([...p.values()]))
    : (t) => fetchHealthz(ep, t));
  const series: SeriesPoint[] = [];
  const live: number[] = []; // live bots each second of the window
  let inWindow = false;
  let prev = { at: performance.now(), bytesIn: 0, bytesOut: 0, snapshots: 0 };
  const t0 = performance.now();

  const second = async () => {
    await swarm.flush();
    const now = performance.now();
    const c = swarm.totals();
    const { rtt } = swarm.takeSecond();
    const dt = Math.max(1e-3, (now - prev.at) / 1000);
    const p: SeriesPoint = {
      t: Math.round((now - t0) / 100) / 10,
      bots: c.live,
      tick_p99_ms: poller.latest?.tick_ms.p99 ?? 0,
      kbps_in: ((c.bytesIn - prev.bytesIn) * 8) / 1000 / dt,
      kbps_out: ((c.bytesOut - prev.bytesOut) * 8) / 1000 / dt,
      rtt_p50_ms: rtt.quantile(0.5),
      rtt_p99_ms: rtt.quantile(0.99),
      snapshots_per_s: (c.snapshots - prev.snapshots) / dt,
    };
    prev = { at: now, bytesIn: c.bytesIn, bytesOut: c.bytesOut, snapshots: c.snapshots };
    series.push(p);
    if (inWindow) live.push(c.live);
    if (o.progress) {
      log(`[${f1(p.t).padStart(6)} s] bots ${c.live}/${o.bots}  snaps/s ${Math.round(p.snapshots_per_s)}  `
        + `in ${Math.round(p.kbps_in)} kbps  out ${Math.round(p.kbps_out)} kbps  rtt p50 ${f1(p.rtt_p50_ms)} p99 ${f1(p.rtt_p99_ms)} ms  `
        + `errors ${c.errors}  desyncs ${c.desyncs}${o.spectators ? `  spectators ${c.specLive}/${o.spectators}` : ''}  tick p99 ${poller.latest ? f1(p.tick_p99_ms) : '?'} ms`
        + (clustered || c.redirects > 0 ? `  redirects ${c.redirects}  instances ${perInstance(swarm.instances())}` : '')
        + (inWindow ? '' : '  (ramp)'));
    }
  };

  let window: Pick<ReportInput, 'h0' | 'h1' | 'start' | 'end' | 'probeRtt' | 'cluster' | 'redis'>;
  let final: Counters | undefined;
  try {
    await swarm.start();
    poller.start();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      second().finally(() => { busy = false; });
    }, 1000);
    try {
      await swarm.grow(o.bots, o.rampPerS);
      if (o.spectators > 0) await swarm.watch(o.spectators);
      await probe?.start();
      await sleep(1000);
      const h0 = await fetchHealthz(ep);
      // /api/instances may ask Redis: it is read outside the two Redis readings.
      const c0 = clustered ? await pollCluster() : undefined;
      const r0 = await readRedis();
      const start = await swarm.mark();
      probe?.take();
      inWindow = true;
      live.push(start.counters.live);
      await sleep(o.durationS * 1000);
      const end = await swarm.mark();
      const probeRtt = probe?.take();
      inWindow = false;
      live.push(end.counters.live);
      const r1 = await readRedis();
      const h1 = await fetchHealthz(ep);
      const c1 = clustered ? await pollCluster() : undefined;
      window = {
        h0, h1, start, end, probeRtt,
        cluster: c0 && c1 ? { start: c0, end: c1 } : undefined,
        redis: r0 && r1 ? { start: r0.counts, end: r1.counts, dtS: (r1.at - r0.at) / 1000, own: ownBetween(new URL(o.redis!).password !== '') } : undefined,
      };
    } finally {
      clearInterval(timer);
      poller.stop();
      probe?.stop();
    }
    if (probe?.error) log(`rtt probe: ${probe.error}`);
    final = await swarm.stop();
  } finally {
    // Any throw above (start, ramp, /healthz, mark): stop the workers anyway, never leak live bots.
    if (final === undefined) await swarm.stop().catch(() => {});
  }
  if (swarm.crashes.length) throw new Error(`bot worker crashed: ${swarm.crashes.join('; ')}`);
  const report = buildReport({
    scenario: o.scenario, url: o.url, transport: o.transport, requested: o.bots, spectators: o.spectators, workers: o.workers, ...window, final, moves: swarm.moves,
    avgLive: live.reduce((a, b) => a + b, 0) / live.length, errorKinds: swarm.notes(), series, seriesT0: t0,
  });
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  if (o.html) writeFileSync(o.html, renderHtml(report));
  return report;
}
