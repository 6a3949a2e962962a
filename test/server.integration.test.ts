import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP, boxHitsWall, PLAYER_RADIUS } from '../game/sim/index.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { issueToken } from '../server/tokens.ts';
import { expectRefusal, getToken, TestClient } from './helpers/net.ts';

const SECRET = 'integration-secret';
let srv: RunningServer;
let base: string;
let wsBase: string;

beforeAll(async () => {
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: SECRET, maxPlayersPerRoom: 3, npcCount: 8, viewRadius: 0 }));
  base = `http://127.0.0.1:${srv.port}`;
  wsBase = `ws://127.0.0.1:${srv.port}/ws`;
});
afterAll(async () => { await srv?.close(); });

describe('real uWebSockets.js server on loopback', () => {
  it('two players join one room and each sees the other move', async () => {
    const a = new TestClient(`${wsBase}?room=MEETS&token=${await getToken(base, 'Ada')}`);
    const b = new TestClient(`${wsBase}?room=MEETS&token=${await getToken(base, 'Bob')}`);
    await a.until(() => a.net.playerId && b.net.playerId && a.entity(b.net.playerId) && b.entity(a.net.playerId), 5000, 'mutual sight');
    const aStart = b.entity(a.net.playerId) as Record<string, number>;
    const bStart = a.entity(b.net.playerId) as Record<string, number>;
    // Spawns are random per room, so each walks the first way that has 40 u of open floor.
    const aWay = openWay(aStart);
    const bWay = openWay(bStart);
    // Each sends one input per tick, as a client does, driven by the snapshots it receives.
    a.ws.on('message', () => a.send(a.net.input({ buttons: aWay.button, aim: 0 }, a.net.serverTick, 0).bytes));
    b.ws.on('message', () => b.send(b.net.input({ buttons: bWay.button, aim: 0 }, b.net.serverTick, 0).bytes));
    await b.until(() => travelled(b.entity(a.net.playerId), aStart, aWay) > 20, 5000, `B sees A move ${aWay.name}`);
    await a.until(() => travelled(a.entity(b.net.playerId), bStart, bWay) > 20, 5000, `A sees B move ${bWay.name}`);
    expect(a.net.stats.desyncs + b.net.stats.desyncs).toBe(0);
    expect([...a.net.roster.values()].map((r) => r.name).sort()).toEqual(['Ada', 'Bob']);
    const rooms = (await (await fetch(`${base}/api/rooms`)).json()) as { rooms: { code: string; players: number }[] };
    expect(rooms.rooms.find((r) => r.code === 'MEETS')?.players).toBe(2);
    a.close();
    b.close();
  });

  it('refuses a foreign Origin with 403 before any socket opens', async () => {
    const token = await getToken(base, 'Eve');
    const r = await expectRefusal(`${wsBase}?room=ABCDE&token=${token}`, { Origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/origin .* not allowed/);
  });

  it('accepts the page origin and localhost origins', async () => {
    const token = await getToken(base, 'Pat');
    const c = new TestClient(`${wsBase}?room=ORIGN&token=${token}`, { origin: `http://localhost:5173` });
    await c.until(() => c.net.playerId, 5000, 'welcome');
    c.close();
  });

  it('refuses missing, forged and expired tokens with 401 and a reason', async () => {
    const good = await getToken(base, 'Tom');
    const forged = `${good.split('.')[0]}.${Buffer.from('x'.repeat(32)).toString('base64url')}`;
    const expired = issueToken(SECRET, { sid: 'old', name: 'Old', exp: Math.floor(Date.now() / 1000) - 1 });
    const cases: [string, RegExp][] = [
      [`${wsBase}?room=ABCDE`, /missing token/],
      [`${wsBase}?room=ABCDE&token=${forged}`, /invalid token signature/],
      [`${wsBase}?room=ABCDE&token=${expired}`, /token expired/],
    ];
    for (const [url, reason] of cases) {
      const r = await expectRefusal(url);
      expect(r.status).toBe(401);
      expect(r.body).toMatch(reason);
    }
  });

  it('refuses a full room with 409 and says so', async () => {
    const code = 'FULLY';
    const clients = [];
    for (const n of ['A', 'B', 'C']) {
      const c = new TestClient(`${wsBase}?room=${code}&token=${await getToken(base, n)}`);
      await c.until(() => c.net.playerId, 5000, 'welcome');
      clients.push(c);
    }
    const r = await expectRefusal(`${wsBase}?room=${code}&token=${await getToken(base, 'D')}`);
    expect(r.status).toBe(409);
    expect(r.body).toMatch(/full/);
    for (const c of clients) c.close();
  });

  it('validates session names and room codes', async () => {
    const empty = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ name: '\u0000 ' }) });
    expect(empty.status).toBe(400);
    const long = await (await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ name: ` ${'n'.repeat(40)}\n` }) })).json();
    expect(long.name).toBe('n'.repeat(16));
    const r = await expectRefusal(`${wsBase}?room=bad!&token=${await getToken(base, 'Z')}`);
    expect(r.status).toBe(400);
  });

  it('reports health and Prometheus metrics', async () => {
    const h = (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>;
    expect(h.status).toBe('ok');
    expect(h.tick_rate).toBe(30);
    expect(h).toHaveProperty('tick_ms.p99');
    expect(h).toHaveProperty('last_tick_ms');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^tickwire_rooms \d+$/m);
    expect(text).toMatch(/tickwire_upgrades_rejected_total\{status="401"\} [1-9]/);
  });
});

interface Way { name: string; button: number; dx: number; dy: number }
const WAYS: Way[] = [
  { name: 'right', button: BTN_RIGHT, dx: 1, dy: 0 },
  { name: 'down', button: BTN_DOWN, dx: 0, dy: 1 },
  { name: 'left', button: BTN_LEFT, dx: -1, dy: 0 },
  { name: 'up', button: BTN_UP, dx: 0, dy: -1 },
];

/** The first direction in which a player at `p` can walk 40 u without touching a wall. */
function openWay(p: Record<string, number>): Way {
  const way = WAYS.find((w) => {
    for (let d = 1; d <= 40; d++) if (boxHitsWall(p.x + w.dx * d, p.y + w.dy * d, PLAYER_RADIUS)) return false;
    return true;
  });
  if (!way) throw new Error(`no open direction from (${p.x}, ${p.y})`);
  return way;
}

/** How far `now` has moved from `start` along `way`. */
function travelled(now: Record<string, number> | undefined, start: Record<string, number>, way: Way): number {
  return now ? (now.x - start.x) * way.dx + (now.y - start.y) * way.dy : 0;
}

describe('native binding check', () => {
  it('refuses to start on the uWS fallback shim (UWS_USE_FALLBACK=1)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, UWS_USE_FALLBACK: '1', PORT: '0', HOST: '127.0.0.1', SECRET: 's' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(out).toMatch(/native binding not loaded/);
  });
});
