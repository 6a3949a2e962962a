/**
 * The monitor's two documents. `monitorPage()` is the page itself, self-contained:
 * uPlot (its dist files from node_modules), the reports' stylesheet and the page's
 * script (client.js, next to this file) all inline, so nothing it loads needs a token
 * of its own. `gatePage()` is what /monitor answers without the token (401, or 403 when
 * the admin API is off): a form that takes the token, fetches /monitor with it in an
 * Authorization header and, when let in, writes the page it got in place of itself.
 * The token stays in the tab's sessionStorage, never in a URL the server sees.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { REPORT_CSS, REPORT_PALETTE } from './style.ts';

/** Where the page keeps the token (sessionStorage: this tab only, gone when it closes). */
export const TOKEN_KEY = 'tickwire-admin-token';

const require = createRequire(import.meta.url);
const read = (path: string | URL) => readFileSync(path, 'utf8');
/** Text safe inside an inline <script> or <style>. */
const inline = (s: string) => s.replace(/<\/(script|style)/gi, '<\\/$1');

const MONITOR_CSS = `
header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; }
header h1 { margin: 0; }
#announce { display: flex; gap: 6px; }
#announce input { width: 320px; }
section.instance { border-top: 2px solid #e5e7eb; margin-top: 18px; }
section.instance h2 span { font-weight: normal; font-size: 14px; margin-left: 10px; }
.columns { display: flex; flex-wrap: wrap; gap: 8px 32px; align-items: flex-start; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, 330px); gap: 4px 16px; flex: 1 1 680px; }
table.figures td { min-width: 90px; }
.chart h3 { font-size: 12px; font-weight: 600; margin: 6px 0 0; color: #374151; }
.players .player { display: inline-flex; gap: 4px; align-items: baseline; margin: 0 12px 2px 0; white-space: nowrap; }
.players button, td button { padding: 0 6px; font-size: 12px; }
`;

export function monitorPage(): string {
  const uplotJs = read(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const uplotCss = read(require.resolve('uplot/dist/uPlot.min.css'));
  const client = read(new URL('./client.js', import.meta.url));
  const config = JSON.stringify({ palette: REPORT_PALETTE, tokenKey: TOKEN_KEY }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>tickwire monitor</title>
<style>${inline(REPORT_CSS + uplotCss + MONITOR_CSS)}</style></head><body>
<header><h1>tickwire monitor</h1><span id="summary" class="muted">finding the instances…</span>
<form id="announce"><input id="announce-text" maxlength="200" placeholder="Announcement to every player" required>
<button type="submit">Announce</button></form></header>
<p id="action-status" role="status" class="muted"></p>
<div id="instances"></div>
<p class="muted">Figures are read once a second from each instance's own /metrics registry, through its public URL;
rates are over the last second, charts over the last 5 minutes. Kick and close act wherever the player or room is.</p>
<script>window.TW_MONITOR = ${config};</script>
<script>${inline(uplotJs)}</script>
<script>${inline(client)}</script>
</body></html>
`;
}

/** The page a browser gets without the token: `why` says what is missing; `form` false when the admin API is off. */
export function gatePage(why: string, form: boolean): string {
  const script = `(() => {
  const KEY = ${JSON.stringify(TOKEN_KEY)};
  const error = document.getElementById('sign-in-error');
  async function open(token) {
    if (!token) return;
    const res = await fetch(location.pathname, { headers: { authorization: 'Bearer ' + token }, cache: 'no-store' });
    if (res.status !== 200) {
      sessionStorage.removeItem(KEY);
      error.textContent = res.status === 401 ? 'That is not the admin token.' : 'The server said ' + res.status + '.';
      return;
    }
    sessionStorage.setItem(KEY, token);
    const html = await res.text();
    document.open();
    document.write(html);
    document.close();
  }
  const fromLink = /[#&]token=([^&]+)/.exec(location.hash);
  if (fromLink) history.replaceState(null, '', location.pathname + location.search);
  open(fromLink ? decodeURIComponent(fromLink[1]) : sessionStorage.getItem(KEY)).catch((e) => { error.textContent = String(e); });
  document.getElementById('sign-in').addEventListener('submit', (e) => {
    e.preventDefault();
    open(document.getElementById('token').value.trim()).catch((err) => { error.textContent = String(err); });
  });
})();`;
  const body = form
    ? `<form id="sign-in"><label>Admin token <input id="token" type="password" autocomplete="current-password" required></label>
<button type="submit">Open the monitor</button></form>
<p id="sign-in-error" class="bad" role="alert"></p>
<p class="muted">The token is the server's ADMIN_TOKEN. It is kept in this tab only (sessionStorage) and sent as
<code>Authorization: Bearer</code>; a link may carry it after <code>#token=</code>, which the page takes off the address at once.</p>
<script>${inline(script)}</script>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tickwire monitor: sign in</title><style>${REPORT_CSS}</style></head><body>
<h1>tickwire monitor</h1>
<p>${why}</p>
${body}
</body></html>
`;
}
