/**
 * The floor the peer-shaped target is measured against (ARCHITECTURE.md, issue 5):
 * a bare uWebSockets.js server that does nothing but publish one prebuilt 150-byte
 * buffer per room per tick and read one small message per client per tick. It
 * speaks just enough of the protocol for the bots to join and time their PINGs:
 * a session token, /healthz and /api/rooms, a WELCOME, PONGs. Its snapshots are filler, so the bots count
 * every one as a decode error; only its CPU and the RTT mean anything.
 *
 *   TICK_RATE=20 PORT=8090 taskset -c 0 npm run load-test:floor &
 *   taskset -c 1 npm run load-test -- --url ws://127.0.0.1:8090/ws --bots 500 --rooms 10 \
 *     --duration 30 --scenario move --workers 2
 *
 * Its CPU (user + system) is what `/healthz` reports as cpu_s, like the real server.
 * Entry point: the one timer here is the tick.
 */
import uWS from 'uWebSockets.js';
import { decodeClient, encodeServer } from '../netcode/codec.ts';
import { C_PING, PROTOCOL_VERSION, S_PONG, S_WELCOME } from '../netcode/protocol.ts';

const port = Number(process.env.PORT ?? 8090);
const tickRate = Number(process.env.TICK_RATE ?? 20);
const app = uWS.App();
const rooms = new Set<string>();
const cpu0 = process.cpuUsage();
let nextId = 1;

app.post('/api/session', (res) => {
  res.onAborted(() => {});
  res.onData(() => {});
  res.cork(() => res.writeHeader('content-type', 'application/json').end(JSON.stringify({ token: 'floor', name: 'bot' })));
});
app.get('/healthz', (res) => {
  const c = process.cpuUsage(cpu0);
  const ms = { p50: 0, p99: 0, max: 0 };
  res.end(JSON.stringify({
    status: 'ok', rooms: rooms.size, clients: 0, tick_rate: tickRate, ticks: 0, tick_ms: ms, ticks_overrun: 0,
    ticks_dropped: 0, snapshots_skipped: 0, snapshots_sent: 0, snapshots_shared: 0, input_ack_ms: ms,
    cpu_s: (c.user + c.system) / 1e6, rss_mb: Math.round(process.memoryUsage.rss() / 2 ** 20),
  }));
});

app.get('/api/rooms', (res) => {
  res.end(JSON.stringify({ rooms: [] }));
});

app.ws<{ room: string }>('/ws', {
  compression: uWS.DISABLED,
  idleTimeout: 16,
  sendPingsAutomatically: true,
  upgrade: (res, req, ctx) => {
    const room = new URLSearchParams(req.getQuery() ?? '').get('room') ?? 'FLOOR';
    res.upgrade({ room }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), ctx);
  },
  open: (ws) => {
    const { room } = ws.getUserData();
    rooms.add(room);
    ws.subscribe(room);
    ws.send(encodeServer({
      type: S_WELCOME, version: PROTOCOL_VERSION, playerId: nextId++, tickRate, serverTick: 1, room, roster: [], instance: '',
      resumed: false, lastSeq: 0, watchers: 0,
    }), true);
  },
  message: (ws, msg) => {
    const b = new Uint8Array(msg);
    if (b[1] !== C_PING) return; // the INPUT every client sends every tick: read, nothing more
    const d = decodeClient(b);
    if (d.ok && d.msg.type === C_PING) ws.send(encodeServer({ type: S_PONG, clientTime: d.msg.clientTime, serverTime: 0 }), true);
  },
});

const filler = new Uint8Array(150).fill(7);
app.listen('127.0.0.1', port, (s) => {
  if (!s) {
    console.error(`floor: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`floor on ws://127.0.0.1:${port}/ws, ${tickRate} Hz`);
});
setInterval(() => {
  for (const r of rooms) app.publish(r, filler, true);
}, 1000 / tickRate);
