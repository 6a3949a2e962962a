/**
 * The load-test report: built from two marks of the swarm and two /healthz polls
 * around the measured window, printed as a table, checked against the gates.
 *
 * Window figures: latencies, per-bot rates, server CPU, overruns and skipped
 * snapshots. Whole-run figures (a single one is a bug, ramp included): bot
 * counts, desyncs, decode errors, errors. Server tick and input-ack percentiles
 * are the server's own, over its last 4096 room ticks / 8192 inputs at the end.
 */
import type { Counters } from './counters.ts';
import type { Histogram } from './histogram.ts';
import type { Healthz } from './healthz.ts';
import type { Gates } from './options.ts';
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
  tick_rate: number;
  workers: number;
  bots: { requested: number; connected: number; failed: number; disconnected: number; resumed: number; dropped: number; live_at_end: number };
  duration_s: number;
  rtt_ms: Quantiles;
  /** RTT of the idle-loop probe (probe.ts): the server and kernel alone; null with --no-probe. */
  probe_rtt_ms: Quantiles | null;
  snapshot_interval_ms: { p50: number; p99: number; max: number };
  bytes_in_per_bot_s: number;
  bytes_out_per_bot_s: number;
  snapshots_per_bot_s: number;
  desyncs: number;
  decode_errors: number;
  missed_snapshots: number;
  errors: number;
  late_inputs: number;
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
  error_kinds: [string, number][];
  /** The measured window on the series' time axis (s since the swarm started); the rest is ramp and wind-down. */
  window_s: { from: number; to: number };
  series: SeriesPoint[];
}

export interface ReportInput {
  scenario: string;
  url: string;
  requested: number;
  workers: number;
  start: Mark;
  end: Mark;
  /** Counters after the swarm stopped (whole run). */
  final: Counters;
  h0: Healthz;
  h1: Healthz;
  probeRtt?: Histogram;
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
  return {
    scenario: i.scenario,
    url: i.url,
    tick_rate: i.h1.tick_rate,
    workers: i.workers,
    bots: {
      requested: i.requested, connected: f.connected, failed: f.failed, disconnected: f.disconnected, resumed: f.resumed,
      dropped: f.dropped, live_at_end: i.end.counters.live,
    },
    duration_s: r2(dt),
    rtt_ms: quantiles(rtt),
    probe_rtt_ms: i.probeRtt && i.probeRtt.count > 0 ? quantiles(i.probeRtt) : null,
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
      tick_ms: i.h1.tick_ms,
      ticks_overrun: i.h1.ticks_overrun - i.h0.ticks_overrun,
      ticks_dropped: i.h1.ticks_dropped - i.h0.ticks_dropped,
      cpu_s_per_s: r3((i.h1.cpu_s - i.h0.cpu_s) / dt),
      rss_mb: i.h1.rss_mb,
      snapshots_skipped: i.h1.snapshots_skipped - i.h0.snapshots_skipped,
      snapshots_shared: r3((i.h1.snapshots_shared - i.h0.snapshots_shared) / Math.max(1, i.h1.snapshots_sent - i.h0.snapshots_sent)),
      input_ack_ms: { p50: i.h1.input_ack_ms.p50, p99: i.h1.input_ack_ms.p99 },
    },
    bot_cpu_s_per_s: r3(cpu / dt),
    bot_worker_elu_max: r3(Math.max(0, ...i.end.elu)),
    error_kinds: i.errorKinds,
    window_s: { from: Math.round(i.start.at - i.seriesT0) / 1000, to: Math.round(i.end.at - i.seriesT0) / 1000 },
    series: i.series,
  };
}

/** The human table printed at the end of a run. */
export function formatReport(r: Report): string {
  const s = r.server;
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} @ ${r.tick_rate} Hz, ${r.workers} worker(s), ${r.url}`],
    ['bots', `${r.bots.connected}/${r.bots.requested} connected, ${r.bots.failed} failed, ${r.bots.disconnected} disconnected, `
      + `${r.bots.dropped} dropped, ${r.bots.resumed} resumed, ${r.bots.live_at_end} live at end`],
    ['window', `${r.duration_s} s`],
    ['rtt ms', `p50 ${r.rtt_ms.p50}  p95 ${r.rtt_ms.p95}  p99 ${r.rtt_ms.p99}  max ${r.rtt_ms.max}`],
    ['probe rtt ms', r.probe_rtt_ms
      ? `p50 ${r.probe_rtt_ms.p50}  p95 ${r.probe_rtt_ms.p95}  p99 ${r.probe_rtt_ms.p99}  max ${r.probe_rtt_ms.max}  (idle-loop client)`
      : 'none'],
    ['snapshot gap ms', `p50 ${r.snapshot_interval_ms.p50}  p99 ${r.snapshot_interval_ms.p99}  max ${r.snapshot_interval_ms.max}`],
    ['per bot per s', `${r.snapshots_per_bot_s} snapshots, ${r.bytes_in_per_bot_s} B in, ${r.bytes_out_per_bot_s} B out`],
    ['integrity', `${r.desyncs} desyncs, ${r.decode_errors} decode errors, ${r.missed_snapshots} missed snapshots, ${r.errors} errors`],
    ['server tick ms', `p50 ${s.tick_ms.p50}  p99 ${s.tick_ms.p99}  max ${s.tick_ms.max}  (${s.ticks_overrun} overrun, ${s.ticks_dropped} dropped)`],
    ['server', `${s.cpu_s_per_s} cpu s/s, ${s.rss_mb} MB rss, ${s.snapshots_skipped} snapshots skipped, ${Math.round(s.snapshots_shared * 1000) / 10} % shared`],
    ['input→ack ms', `p50 ${s.input_ack_ms.p50}  p99 ${s.input_ack_ms.p99}`],
    ['bots cpu', `${r.bot_cpu_s_per_s} cpu s/s, worker loop busy ≤ ${Math.round(r.bot_worker_elu_max * 100)} %`
      + (r.bot_worker_elu_max > 0.9 ? '  ← bots saturated: figures measure the bots, not the server' : '')],
  ];
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
