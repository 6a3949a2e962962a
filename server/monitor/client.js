/**
 * The monitor page's script, served inline by page.ts after uPlot (plain browser
 * JavaScript: the server serves it as it is, no build step). For every instance that
 * GET /api/instances lists, it opens that instance's own feed (a WebSocket at the
 * instance's public URL; the admin token is offered as a subprotocol, since a browser's
 * WebSocket cannot send an Authorization header) and draws each sample: the figures,
 * the rooms and their players, and uPlot charts of the last minutes. Kick, close and
 * announce go to the admin API of the server this page came from, which reaches every
 * instance over the bus. Player names are set as text, never as HTML.
 */
(() => {
  const { palette, tokenKey } = window.TW_MONITOR;
  const { uPlot } = window; // the inline script before this one
  const token = sessionStorage.getItem(tokenKey) || '';
  const HISTORY = 300;
  const views = new Map(); // instance id → its section, feed and chart rows
  let clustered = false;

  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    e.append(...kids);
    return e;
  };
  const status = (text, bad = false) => {
    const s = document.getElementById('action-status');
    s.textContent = text;
    s.className = bad ? 'bad' : 'muted';
  };
  const b64url = (s) =>
    btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

  // Formats of the figures. `v` is the view (for rates over its last two rows), `m` the sample's metrics.
  const num = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
  const rateOf = (v, key) => {
    const k = v.keys.indexOf(key) + 1;
    const [a, b] = v.rows.slice(-2);
    return k > 0 && a && b && b[0] > a[0] ? Math.max(0, b[k] - a[k]) / (b[0] - a[0]) : 0;
  };
  const bytes = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
  const FIGURES = [
    ['rooms', 'tickwire_rooms'],
    ['players connected', 'tickwire_clients'],
    ['seats held', 'tickwire_players'],
    ['tick p50 (ms)', 'tickwire_tick_ms_p50'],
    ['tick p99 (ms)', 'tickwire_tick_ms_p99'],
    ['bytes in', 'tickwire_ws_bytes_in_total', (x, v, k) => `${((rateOf(v, k) * 8) / 1000).toFixed(1)} kbit/s · ${bytes(x)}`],
    ['bytes out', 'tickwire_ws_bytes_out_total', (x, v, k) => `${((rateOf(v, k) * 8) / 1000).toFixed(1)} kbit/s · ${bytes(x)}`],
    ['snapshots skipped', 'tickwire_snapshots_skipped_total'],
    ['messages rejected', 'tickwire_messages_rejected_total', 'labels'],
    ['joins (new · resumed)', 'tickwire_joins_total', 'labels'],
    ['slow readers closed', 'tickwire_slow_readers_closed_total'],
    ['Redis up', 'tickwire_redis_up', (x) => (x < 0 ? 'standalone (no Redis)' : x === 1 ? 'yes' : 'NO')],
    ['instances live', 'tickwire_cluster_instances'],
    ['draining', 'tickwire_draining', (x) => (x ? 'yes' : 'no')],
    ['uptime (s)', 'tickwire_uptime_seconds', (x) => String(Math.round(x))],
  ];
  // Charts: [label, key] per series; `rate` turns a counter into a per-second rate times it.
  const CHARTS = [
    { title: 'Players', unit: 'sockets', series: [['connected', 'tickwire_clients'], ['seats', 'tickwire_players']] },
    { title: 'Room tick', unit: 'ms', series: [['p50', 'tickwire_tick_ms_p50'], ['p99', 'tickwire_tick_ms_p99']] },
    {
      title: 'WebSocket traffic', unit: 'kbit/s', rate: 8 / 1000,
      series: [['in', 'tickwire_ws_bytes_in_total'], ['out', 'tickwire_ws_bytes_out_total']],
    },
    {
      title: 'Per second', unit: '/s', rate: 1,
      series: [
        ['skipped', 'tickwire_snapshots_skipped_total'], ['rejected', 'tickwire_messages_rejected_total'],
        ['resumed', 'tickwire_joins_total{kind="resumed"}'],
      ],
    },
  ];

  /** From the data itself (uPlot widens a single point to a day): at least the last minute across. */
  const xRange = (u) => {
    const xs = u.data[0];
    const hi = xs.length ? xs[xs.length - 1] : Date.now() / 1000;
    return [Math.min(xs.length ? xs[0] : hi, hi - 60), hi];
  };

  function makeChart(box, def) {
    const axis = { stroke: palette.text, grid: { stroke: palette.grid, width: 1 }, ticks: { stroke: palette.grid, width: 1 } };
    const opts = {
      width: 320, height: 150, legend: { live: false },
      scales: {
        x: { time: true, range: xRange },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [axis, { ...axis, size: 48 }],
      series: [{}, ...def.series.map(([label], i) => ({ label, stroke: palette.series[i], width: 1.5, points: { show: false } }))],
    };
    const div = el('div', { class: 'chart' }, el('h3', { text: `${def.title} (${def.unit})` }));
    box.append(div);
    return { def, plot: new uPlot(opts, [[], ...def.series.map(() => [])], div) };
  }

  function chartData(v, def) {
    const cols = def.series.map(([, key]) => v.keys.indexOf(key) + 1);
    const xs = [];
    const ys = cols.map(() => []);
    for (let i = def.rate ? 1 : 0; i < v.rows.length; i++) {
      const r = v.rows[i];
      xs.push(r[0]);
      const p = v.rows[i - 1];
      const dt = def.rate ? r[0] - p[0] : 0;
      cols.forEach((k, j) => {
        if (!def.rate) ys[j].push(r[k]);
        else ys[j].push(dt > 0 ? (Math.max(0, r[k] - p[k]) / dt) * def.rate : null); // a restart resets a counter: no negative rate
      });
    }
    return [xs, ...ys];
  }

  function makeView(inst) {
    const section = el('section', { class: 'instance', 'data-instance': inst.id });
    const state = el('span', { class: 'state muted', text: 'connecting' });
    const where = el('span', { class: 'muted', text: inst.url });
    const figures = el('tbody');
    const charts = el('div', { class: 'charts' });
    const rooms = el('tbody');
    section.append(
      el('h2', {}, inst.id ? `instance ${inst.id}` : 'this server', state, where),
      el('div', { class: 'columns' }, el('table', { class: 'figures' }, figures), charts),
      el('table', { class: 'rooms' }, el('thead', {}, el('tr', {}, el('th', { text: 'room' }), el('th', { text: 'connected' }),
        el('th', { text: 'players' }), el('th', {}))), rooms),
    );
    // Sections in instance order.
    const after = [...document.querySelectorAll('section.instance')].find((s) => s.dataset.instance > inst.id);
    document.getElementById('instances').insertBefore(section, after ?? null);
    const v = { inst, section, state, figures, rooms, keys: [], rows: [], ws: null, retry: 500, listed: true, roomsSig: '', last: null };
    v.charts = CHARTS.map((def) => makeChart(charts, def));
    return v;
  }

  const setState = (v, text, bad = false) => {
    v.state.textContent = text;
    v.state.className = `state ${bad ? 'bad' : 'good'}`;
  };

  function figureRow(label, key, fmt, v, m) {
    const cell = el('td', { class: 'num', 'data-metric': key });
    if (fmt === 'labels') {
      const lines = Object.entries(m).filter(([k]) => k.startsWith(`${key}{`));
      cell.append(...lines.map(([k, x]) => el('div', { 'data-metric': k, 'data-value': String(x), text: `${/"(.*)"/.exec(k)[1]} ${x}` })));
      cell.setAttribute('data-value', String(lines.reduce((s, [, x]) => s + x, 0)));
    } else {
      const x = m[key] ?? 0;
      cell.setAttribute('data-value', String(x));
      cell.textContent = fmt ? fmt(x, v, key) : num(x);
    }
    return el('tr', {}, el('th', { text: label }), cell);
  }

  function renderRooms(v, s) {
    const sig = JSON.stringify(s.rooms);
    if (sig === v.roomsSig) return; // unchanged: the buttons stay put under the pointer
    v.roomsSig = sig;
    const rows = s.rooms.map((r) => {
      const players = r.players.map((p) => {
        const kick = p.id > 0
          ? el('button', { 'data-action': 'kick', 'data-room': r.code, 'data-id': String(p.id), 'data-name': p.name, text: 'kick' })
          : '';
        const note = `#${p.id || '–'}${p.connected ? '' : ' · dropped'}${p.ip ? ` · ${p.ip}` : ''}`;
        const who = el('span', { text: p.name });
        return el('span', { class: 'player', 'data-player': `${r.code}:${p.id}` }, who, el('span', { class: 'muted', text: note }), kick);
      });
      const close = el('button', { 'data-action': 'close', 'data-room': r.code, text: 'close room' });
      return el('tr', { 'data-room': r.code }, el('td', {}, el('b', { text: r.code })), el('td', { class: 'num', text: `${r.connected}/${r.max}` }),
        el('td', { class: 'players' }, ...players), el('td', {}, close));
    });
    const note = (text) => el('tr', {}, el('td', { colspan: '4', class: 'muted', text }));
    if (s.roomCount > s.rooms.length) rows.push(note(`… and ${s.roomCount - s.rooms.length} more rooms`));
    if (rows.length === 0) rows.push(note('no rooms'));
    v.rooms.replaceChildren(...rows);
  }

  function render(v, s) {
    v.last = s;
    v.figures.replaceChildren(...FIGURES.map(([label, key, fmt]) => figureRow(label, key, fmt, v, s.metrics)));
    const c = s.cluster;
    const redis = c.enabled ? `${c.redis}, bus ${c.bus ? 'up' : 'down'}, ${c.registered ? 'registered' : 'NOT registered'}` : 'off (standalone)';
    v.figures.append(el('tr', {}, el('th', { text: 'Redis state' }), el('td', { 'data-field': 'redis', text: redis })));
    renderRooms(v, s);
    for (const ch of v.charts) ch.plot.setData(chartData(v, ch.def));
    v.section.dataset.updated = String(s.at);
    summary();
  }

  function summary() {
    const live = [...views.values()].filter((v) => v.last);
    const players = live.reduce((n, v) => n + (v.last.metrics.tickwire_clients ?? 0), 0);
    const redis = live.map((v) => v.last.cluster.redis).find((r) => r !== 'ready') ?? (clustered ? 'ready' : 'off');
    document.getElementById('summary').textContent =
      `${views.size} instance(s)${clustered ? '' : ' (standalone)'} · ${players} players connected · Redis ${redis}`;
  }

  function feedUrl(inst) {
    // Standalone, the server's own address (the page may use another name for it than PUBLIC_URL).
    const url = new URL(clustered ? inst.url : location.origin, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${url.href.replace(/\/$/, '')}/api/admin/monitor/feed`;
  }

  function connect(v) {
    if (v.ws) return;
    const ws = new WebSocket(feedUrl(v.inst), ['tickwire-monitor', `bearer.${b64url(token)}`]);
    v.ws = ws;
    ws.onopen = () => { v.retry = 500; setState(v, 'live'); };
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === 'hello') {
        v.keys = m.keys;
        v.rows = m.history;
      } else if (m.type === 'sample') {
        v.rows.push(m.chart);
        if (v.rows.length > HISTORY) v.rows.shift();
        render(v, m);
      }
    };
    ws.onclose = () => {
      v.ws = null;
      if (!v.listed) return setState(v, 'gone (not in /api/instances)', true);
      setState(v, 'feed closed: reconnecting (is the token still right?)', true);
      setTimeout(() => connect(v), v.retry);
      v.retry = Math.min(v.retry * 2, 10_000);
    };
  }

  async function refresh() {
    try {
      const res = await fetch('/api/instances', { cache: 'no-store' });
      if (!res.ok) throw new Error(`${res.status}`);
      const list = await res.json();
      clustered = list.clustered;
      const ids = new Set(list.instances.map((i) => i.id));
      for (const inst of list.instances) {
        const v = views.get(inst.id) ?? makeView(inst);
        views.set(inst.id, v);
        v.inst = inst;
        v.listed = true;
        connect(v);
      }
      for (const [id, v] of views) if (!ids.has(id)) v.listed = false;
      summary();
    } catch (e) {
      document.getElementById('summary').textContent = `GET /api/instances failed (${e.message}); trying again`;
    }
  }

  async function admin(path, body) {
    const res = await fetch(path, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${path}: ${res.status} ${answer.error ?? ''}`);
    return answer;
  }

  document.addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action]');
    if (!b) return;
    const { action, room, id, name } = b.dataset;
    b.disabled = true;
    try {
      if (action === 'kick') {
        const a = await admin('/api/admin/kick', { room, id: Number(id) });
        status(`Kicked ${a.kicked.map((k) => `${k.name} (${k.room} #${k.id}) on instance ${k.instance}`).join(', ') || name}.`);
      } else if (action === 'close') {
        const a = await admin('/api/admin/close', { room });
        status(`Closed ${a.closed.map((c) => `room ${c.room} on instance ${c.instance} (${c.players} connected)`).join(', ')}.`);
      }
    } catch (err) {
      status(err.message, true);
    } finally {
      b.disabled = false;
    }
  });

  document.getElementById('announce').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = document.getElementById('announce-text');
    try {
      const a = await admin('/api/admin/announce', { text: input.value });
      status(`Announced to ${a.instances} instance(s): “${a.text}”`);
      input.value = '';
    } catch (err) {
      status(err.message, true);
    }
  });

  if (!token) return status('No admin token in this tab: reload the page and sign in.', true);
  refresh();
  setInterval(refresh, 5000);
})();
