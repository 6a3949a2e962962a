/**
 * The look of tickwire's reports, so they read as one product: the load test's HTML
 * report (load-test/html.ts) and the server's live monitor (server/monitor/page.ts)
 * inline this one stylesheet and draw with this one palette. It lives here, beside the
 * monitor: load-test/ may import server/ (it already starts server processes), not the
 * other way. Plain strings: no DOM, no I/O.
 */

/** Chart colours: series in order, grid lines, axis text, the shaded measured window. */
export const REPORT_PALETTE = {
  series: ['#2563eb', '#dc2626', '#16a34a', '#d97706'],
  grid: '#e5e7eb',
  text: '#374151',
  band: '#eef2ff',
} as const;

export const REPORT_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111827; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 20px 0 8px; }
pre { background: #f3f4f6; padding: 12px; white-space: pre-wrap; }
svg { display: block; margin: 12px 0; font: 11px system-ui, sans-serif; fill: #374151; }
table { border-collapse: collapse; margin: 8px 0 12px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { color: #374151; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #6b7280; }
.bad { color: #dc2626; }
.good { color: #16a34a; }
button { font: inherit; padding: 2px 10px; border: 1px solid #d1d5db; border-radius: 4px; background: #f9fafb; cursor: pointer; }
button:hover { background: #eef2ff; border-color: #2563eb; }
input { font: inherit; padding: 2px 6px; border: 1px solid #d1d5db; border-radius: 4px; }
`;
