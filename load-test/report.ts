/**
 * The load-test report: built from two marks of the swarm and two /healthz polls
 * around the measured window, printed as a table, checked against the gates.
 *
 * Window figures: latencies, per-bot rates, server CPU, overruns and skipped
 * snapshots. Whole-run figures (a single one is a bug, ramp included): bot
 * counts, desyncs, decode errors, errors. Server tick and input-ack percentiles
 * are the server's own, over its last 4096 room ticks / 8192 inputs at the end.
 *
 * Against a cluster (the front's /healthz says cluster.enabled) the server figures are
 * read from each instance's own /healthz (instances.ts), reported per instance, and
 * `server` is the cluster as one: CPU, memory and counts summed, tick and input-ack
 * percentiles the worst instance's. With --redis, Redis's commands per second too.
 */
import type { Counters } from './counters.ts';
import type { Histogram } from './histogram.ts';
import type { Healthz } from './healthz.ts';
import { type ClusterPoll, combineHealthz, common, type InstanceFigures, instanceFigures } from './instances.ts';
import type { Gates } from './options.ts';
import { type CommandCounts, type RedisFigures, redisFigures } from './redis-stats.ts';
import type { Mark } from './swarm.ts';

export interface SeriesPoint {
  t: number; // s since the swarm started
  bots: number; // live
  tick_p99_ms: number;
  kbps_in: number;
  kbps_out: number;
  rtt_p50_ms: number;
  rtt_p99_ms: number;
  snapshots_per_s: number;
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface Report {
  scenario: string;
  url: string;
  /** How the bots, spectators and probe reached the server: ws (WebSocket) or sse (Server-Sent Events + POST). */
  transport: string;
  tick_rate: number;
  workers: number;
  bots: {
    requested: number; connected: number; failed: number; disconnected: number; resumed: number; dropped: number; live_at_end: number;
    /** REDIRECTs followed over the whole run (a join at an instance that does not hold the room). */
    redirects: number;
    /** MOVEs followed: the bot's room moved to another instance with its seat (a drain). */
    moved: number;
    /** Live bots by the instance that welcomed them, at the window's end ({} on a standalone server). */
    per_instance: Record<string, number>;
  };
  duration_s: number;
  rtt_ms: Quantiles;
  /** RTT of the idle-loop probe (probe.ts): the server and kernel alone; null with --no-probe. */
  probe_rtt_ms: Quantiles | null;
  /**
   * Bots whose room moved (an instance drained): pause = the gap in snapshots a move cost,
   * resume = MOVE received → resumed WELCOME from the new owner. null when nothing moved.
   */
  moves: { pause_ms: Quantiles; resume_ms: Quantiles } | null;
  snapshot_interval_ms: { p50: number; p99: number; max: number };
  bytes_in_per_bot_s: number;
  bytes_out_per_bot_s: number;
  snapshots_per_bot_s: number;
  desyncs: number;
  decode_errors: number;
  missed_snapshots: number;
  errors: number;
  late_inputs: number;
  /** In a cluster: the sum over the instances (CPU, memory, counts) or the worst one (tick and ack percentiles). */
  server: {
    tick_ms: { p50: number; p99: number; max: number };
    ticks_overrun: number;
    ticks_dropped: number;
    cpu_s_per_s: number;
    rss_mb: number;
    snapshots_skipped: number;
    /** Share of the snapshots sent that went out in the room's one publish per tick (0..1). */
    snapshots_shared: number;
    input_ack_ms: { p50: number; p99: number };
  };
  bot_cpu_s_per_s: number;
  bot_worker_elu_max: number;
  /**
   * The headless spectators (--spectators), apart from the bots; null without any. Counts over
   * the whole run, but `snapshots_per_s` (per spectator, over the window).
   */
  spectators: {
    requested: number; connected: number; failed: number; disconnected: number; live_at_end: number;
    snapshots: number; snapshots_per_s: number; desyncs: number; decode_errors: number; missed_snapshots: number; errors: number;
  } | null;
  error_kinds: [string, number][];
  cluster: {
    /** The front's /healthz said cluster.enabled; else `instances` is empty. */
    enabled: boolean;
    instances: InstanceFigures[];
    /** Instances that answered /healthz at one end of the window only (not in `instances`). */
    missing: string[];
    /** With --redis (null without). */
    redis: RedisFigures | null;
  };
  /** The measured window on the series' time axis (s since the swarm started); the rest is ramp and wind-down. */
  window_s: { from: number; to: number };
  series: SeriesPoint[];
}

export interface ReportInput {
  scenario: string;
  url: string;
  /** ws when absent. */
  transport?: string;
  requested: number;
  /** Spectators asked for (--spectators); 0 when absent. */
  spectators?: number;
  workers: number;
  start: Mark;
  end: Mark;
  /** Counters after the swarm stopped (whole run). */
  final: Counters;
  h0: Healthz;
  h1: Healthz;
  /** Each instance's /healthz at the window's start and end; absent on a standalone server. */
  cluster?: { start: ClusterPoll; end: ClusterPoll };
  /** INFO commandstats at the window's start and end (--redis), `dtS` apart, with our own calls in between. */
  redis?: { start: CommandCounts; end: CommandCounts; dtS: number; own: Record<string, number> };
  probeRtt?: Histogram;
  /** Moves over the whole run: the snapshot gap each cost a bot, and MOVE → resumed WELCOME. */
  moves?: { pause: Histogram; resume: Histogram };
  /** Mean number of live bots over the window. */
  avgLive: number;
  errorKinds: [string, number][];
  series: SeriesPoint[];
  /** performance.now() (ms) of the series' time 0. */
  seriesT0: number;
}

const r2 = (v: number) => Math.round(v * 100) / 100;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

const quantiles = (h: Histogram): Quantiles => ({
  p50: r3(h.quantile(0.5)), p95: r3(h.quantile(0.95)), p99: r3(h.quantile(0.99)), max: r3(h.maxMs),
});

export function buildReport(i: ReportInput): Report {
  const dt = (i.end.at - i.start.at) / 1000;
  const d = (k: keyof Counters) => i.end.counters[k] - i.start.counters[k];
  const perBotS = (v: number) => r2(v / Math.max(1e-9, dt * Math.max(1, i.avgLive)));
  const cpu = (i.end.cpu.user + i.end.cpu.system - i.start.cpu.user - i.start.cpu.system) / 1e6;
  const { rtt, interval } = i.end;
  const f = i.final;
  let { h0, h1 } = i;
  let cluster: Report['cluster'] = { enabled: false, instances: [], missing: [], redis: null };
  if (i.cluster) {
    const [a, b] = common(i.cluster.start, i.cluster.end);
    if (a.length > 0) { // else no instance answered at both ends: the front's own figures stand
      h0 = combineHealthz(a);
      h1 = combineHealthz(b);
    }
    cluster = { enabled: true, ...instanceFigures(i.cluster.start, i.cluster.end, i.end.instances, dt), redis: null };
  }
  if (i.redis) {
    const r = i.redis;
    cluster.redis = redisFigures(r.start, r.end, r.dtS, r.own, Math.max(1, cluster.instances.length), h1.clients);
  }
  const specs = i.spectators ?? 0;
  return {
    scenario: i.scenario,
    url: i.url,
    transport: i.transport ?? 'ws',
    tick_rate: h1.tick_rate,
    workers: i.workers,
    bots: {
      requested: i.requested, connected: f.connected, failed: f.failed, disconnected: f.disconnected, resumed: f.resumed,
      dropped: f.dropped, live_at_end: i.end.counters.live, redirects: f.redirects, moved: f.moved, per_instance: i.end.instances,
    },
    duration_s: r2(dt),
    rtt_ms: quantiles(rtt),
    probe_rtt_ms: i.probeRtt && i.probeRtt.count > 0 ? quantiles(i.probeRtt) : null,
    moves: i.moves && i.moves.pause.count + i.moves.resume.count > 0
      ? { pause_ms: quantiles(i.moves.pause), resume_ms: quantiles(i.moves.resume) }
      : null,
    snapshot_interval_ms: { p50: r3(interval.quantile(0.5)), p99: r3(interval.quantile(0.99)), max: r3(interval.maxMs) },
    bytes_in_per_bot_s: perBotS(d('bytesIn')),
    bytes_out_per_bot_s: perBotS(d('bytesOut')),
    snapshots_per_bot_s: perBotS(d('snapshots')),
    desyncs: f.desyncs,
    decode_errors: f.decodeErrors,
    missed_snapshots: d('missed'),
    errors: f.errors,
    late_inputs: d('lateInputs'),
    server: {
      tick_ms: h1.tick_ms,
      ticks_overrun: h1.ticks_overrun - h0.ticks_overrun,
      ticks_dropped: h1.ticks_dropped - h0.ticks_dropped,
      cpu_s_per_s: r3((h1.cpu_s - h0.cpu_s) / dt),
      rss_mb: h1.rss_mb,
      snapshots_skipped: h1.snapshots_skipped - h0.snapshots_skipped,
      snapshots_shared: r3((h1.snapshots_shared - h0.snapshots_shared) / Math.max(1, h1.snapshots_sent - h0.snapshots_sent)),
      input_ack_ms: { p50: h1.input_ack_ms.p50, p99: h1.input_ack_ms.p99 },
    },
    bot_cpu_s_per_s: r3(cpu / dt),
    bot_worker_elu_max: r3(Math.max(0, ...i.end.elu)),
    spectators: specs > 0
      ? {
          requested: specs, connected: f.specConnected, failed: f.specFailed, disconnected: f.specDisconnected, live_at_end: i.end.counters.specLive,
          snapshots: f.specSnapshots, snapshots_per_s: r2(d('specSnapshots') / Math.max(1e-9, dt * Math.max(1, i.end.counters.specLive))),
          desyncs: f.specDesyncs, decode_errors: f.specDecodeErrors, missed_snapshots: f.specMissed, errors: f.specErrors,
        }
      : null,
    error_kinds: i.errorKinds,
    cluster,
    window_s: { from: Math.round(i.start.at - i.seriesT0) / 1000, to: Math.round(i.end.at - i.seriesT0) / 1000 },
    series: i.series,
  };
}

/** The human table printed at the end of a run. */
export function formatReport(r: Report): string {
  const s = r.server;
  const c = r.cluster;
  // Standalone, the table is as it was before the cluster: its figures and lines only where they say something.
  const n = c.instances.length;
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} @ ${r.tick_rate} Hz, ${r.workers} worker(s), ${r.url}`],
    ['transport', r.transport === 'sse' ? 'sse (Server-Sent Events down, POST up)' : 'ws (WebSocket)'],
    ['bots', `${r.bots.connected}/${r.bots.requested} connected, ${r.bots.failed} failed, ${r.bots.disconnected} disconnected, `
      + `${r.bots.dropped} dropped, ${r.bots.resumed} resumed, ${r.bots.live_at_end} live at end`
      + (c.enabled || r.bots.redirects > 0 ? `, ${r.bots.redirects} redirects followed` : '')
      + (r.bots.moved > 0 ? `, ${r.bots.moved} moved with their room` : '')],
    ['window', `${r.duration_s} s`],
    ['rtt ms', `p50 ${r.rtt_ms.p50}  p95 ${r.rtt_ms.p95}  p99 ${r.rtt_ms.p99}  max ${r.rtt_ms.max}`],
    ['probe rtt ms', r.probe_rtt_ms
      ? `p50 ${r.probe_rtt_ms.p50}  p95 ${r.probe_rtt_ms.p95}  p99 ${r.probe_rtt_ms.p99}  max ${r.probe_rtt_ms.max}  (idle-loop client)`
      : 'none'],
    ...(r.moves ? [['moves ms', `pause p50 ${r.moves.pause_ms.p50} p99 ${r.moves.pause_ms.p99} max ${r.moves.pause_ms.max}  `
      + `back in seat p50 ${r.moves.resume_ms.p50} p99 ${r.moves.resume_ms.p99} max ${r.moves.resume_ms.max}`] as [string, string]] : []),
    ['snapshot gap ms', `p50 ${r.snapshot_interval_ms.p50}  p99 ${r.snapshot_interval_ms.p99}  max ${r.snapshot_interval_ms.max}`],
    ['per bot per s', `${r.snapshots_per_bot_s} snapshots, ${r.bytes_in_per_bot_s} B in, ${r.bytes_out_per_bot_s} B out`],
    ['integrity', `${r.desyncs} desyncs, ${r.decode_errors} decode errors, ${r.missed_snapshots} missed snapshots, ${r.errors} errors`],
    ['server tick ms', `p50 ${s.tick_ms.p50}  p99 ${s.tick_ms.p99}  max ${s.tick_ms.max}  (${s.ticks_overrun} overrun, ${s.ticks_dropped} dropped)`
      + (c.enabled ? `  (worst of ${plural(n, 'instance')})` : '')],
    ['server', `${s.cpu_s_per_s} cpu s/s, ${s.rss_mb} MB rss, ${s.snapshots_skipped} snapshots skipped, ${Math.round(s.snapshots_shared * 1000) / 10} % shared`
      + (c.enabled ? `  (sum of ${plural(n, 'instance')})` : '')],
    ['input→ack ms', `p50 ${s.input_ack_ms.p50}  p99 ${s.input_ack_ms.p99}`],
    ...(r.spectators ? [['spectators', `${r.spectators.connected}/${r.spectators.requested} connected, ${r.spectators.failed} failed, `
      + `${r.spectators.disconnected} disconnected, ${r.spectators.snapshots} snapshots (${r.spectators.snapshots_per_s}/s each), `
      + `${r.spectators.desyncs} desyncs, ${r.spectators.decode_errors} decode errors, ${r.spectators.missed_snapshots} missed, `
      + `${r.spectators.errors} errors`] as [string, string]] : []),
    ['bots cpu', `${r.bot_cpu_s_per_s} cpu s/s, worker loop busy ≤ ${Math.round(r.bot_worker_elu_max * 100)} %`
      + (r.bot_worker_elu_max > 0.9 ? '  ← bots saturated: figures measure the bots, not the server' : '')],
  ];
  for (const i of c.instances) {
    rows.push([`instance ${i.id}`, `${i.bots} bots, ${i.clients} clients, ${i.rooms} rooms, ${i.cpu_s_per_s} cpu s/s, `
      + `tick p50 ${i.tick_ms.p50} p99 ${i.tick_ms.p99} ms, ${i.rss_mb} MB rss, ${i.snapshots_skipped} skipped, ${i.ticks_overrun} overrun`]);
  }
  if (c.missing.length) rows.push(['instances', `${c.missing.join(', ')} answered /healthz at one end of the window only`]);
  if (c.redis) {
    const top = Object.entries(c.redis.by_command).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ');
    rows.push(['redis', `${c.redis.commands_per_s} commands/s (budget 2×instances + 0.01×players = ${c.redis.budget_per_s.toFixed(1)}; `
      + `${plural(c.redis.instances, 'instance')}, ${plural(c.redis.players, 'player')})${top ? `: ${top}` : ''}`]);
  }
  for (const [k, n] of r.error_kinds.slice(0, 5)) rows.push(['error', `${n}× ${k}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** One line per missed gate; empty when all held. */
export function checkGates(r: Report, g: Gates): string[] {
  const out: string[] = [];
  if (g.maxTickP99Ms !== undefined && r.server.tick_ms.p99 > g.maxTickP99Ms) {
    out.push(`GATE FAILED: server tick p99 ${r.server.tick_ms.p99} ms > --max-tick-p99 ${g.maxTickP99Ms} ms`);
  }
  if (g.maxDesyncs !== undefined && r.desyncs > g.maxDesyncs) {
    out.push(`GATE FAILED: ${r.desyncs} desyncs > --max-desyncs ${g.maxDesyncs}`);
  }
  if (g.minConnected !== undefined && r.bots.connected < g.minConnected * r.bots.requested) {
    out.push(`GATE FAILED: ${r.bots.connected}/${r.bots.requested} bots connected < --min-connected ${g.minConnected}`);
  }
  if (g.maxRttP99Ms !== undefined && r.rtt_ms.p99 > g.maxRttP99Ms) {
    out.push(`GATE FAILED: rtt p99 ${r.rtt_ms.p99} ms > --max-rtt-p99 ${g.maxRttP99Ms} ms`);
  }
  return out;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
