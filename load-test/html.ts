/**
 * A self-contained HTML report: the summary table and four inline-SVG charts over
 * time (bots, server tick p99, kbps, RTT), with the measured window shaded. No
 * scripts, no CDN: open it anywhere. Its stylesheet and colours are the server monitor's
 * too (server/monitor/style.ts).
 */
import { REPORT_CSS, REPORT_PALETTE } from '../server/monitor/style.ts';
import { formatReport, type Report, type SeriesPoint } from './report.ts';

const W = 640;
const H = 180;
const PAD = { l: 48, r: 12, t: 24, b: 24 };
const COLORS = REPORT_PALETTE.series;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A nice round upper bound for an axis. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function chart(title: string, unit: string, r: Report, lines: [string, (p: SeriesPoint) => number][]): string {
  const series = r.series;
  const tMax = Math.max(1, r.window_s.to, ...series.map((p) => p.t));
  const yMax = niceMax(Math.max(0, ...series.flatMap((p) => lines.map(([, f]) => f(p)))));
  const x = (t: number) => PAD.l + ((W - PAD.l - PAD.r) * t) / tMax;
  const y = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / yMax;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((q) => {
    const v = yMax * q;
    return `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="${REPORT_PALETTE.grid}"/>`
      + `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`;
  }).join('');
  // The measured window, shaded: what the summary's figures cover (the rest is ramp and wind-down).
  const win = `<rect x="${x(r.window_s.from).toFixed(1)}" y="${PAD.t}" width="${(x(r.window_s.to) - x(r.window_s.from)).toFixed(1)}" `
    + `height="${H - PAD.t - PAD.b}" fill="${REPORT_PALETTE.band}"/>`;
  const ticks = [0, 0.5, 1].map((q) => `<text x="${x(tMax * q)}" y="${H - 6}" text-anchor="middle">${Math.round(tMax * q)} s</text>`).join('');
  const paths = lines.map(([, f], i) => {
    const pts = series.map((p) => `${x(p.t).toFixed(1)},${y(f(p)).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${COLORS[i]}" stroke-width="1.5" points="${pts}"/>`;
  }).join('');
  const legend = lines.map(([name], i) => `<tspan fill="${COLORS[i]}">■ ${esc(name)}</tspan>`).join('  ');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`
    + `<text x="${PAD.l}" y="14" font-weight="bold">${esc(title)} (${esc(unit)})</text>`
    + `<text x="${W - PAD.r}" y="14" text-anchor="end">${legend}</text>${win}${grid}${ticks}${paths}</svg>`;
}

export function renderHtml(r: Report): string {
  const charts = [
    chart('Bots connected', 'bots', r, [['live', (p) => p.bots]]),
    chart('Server room tick p99', 'ms', r, [['tick p99', (p) => p.tick_p99_ms]]),
    chart('Bot traffic', 'kbps', r, [['in', (p) => p.kbps_in], ['out', (p) => p.kbps_out]]),
    chart('Round-trip time', 'ms', r, [['p50', (p) => p.rtt_p50_ms], ['p99', (p) => p.rtt_p99_ms]]),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tickwire load test: ${esc(r.scenario)}, ${r.bots.requested} bots</title>
<style>${REPORT_CSS}</style></head><body>
<h1>tickwire load test</h1>
<pre>${esc(formatReport(r))}</pre>
${charts.join('\n')}
<p>The shaded band is the measured window (${r.window_s.from.toFixed(1)}–${r.window_s.to.toFixed(1)} s), which the figures above cover; before it the bots ramp in.
Server tick p99 is polled from /healthz once a second (percentile over the server's last 4096 room ticks).</p>
</body></html>
`;
}
