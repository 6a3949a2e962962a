/**
 * Spectators and the SSE door on a real server, with real sockets and real curl:
 * a spectator is admitted to a full room, sees a player move, is counted on the
 * players' side (EV_WATCHERS) and has its INPUT refused with CLOSE_SPECTATOR;
 * `curl -N` of a room's event stream gets one event per tick, and a second curl with
 * Last-Event-ID is resumed by a delta from that tick; bad requests on the new
 * endpoints get clear 4xx answers while the room's players lose nothing.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTN_RIGHT } from '../game/sim/constants.ts';
import { decodeServer, encodeClient } from '../netcode/codec.ts';
import { C_CHAT, C_INPUT, CLOSE_SPECTATOR, EV_WATCHERS, S_SNAPSHOT, S_WELCOME } from '../netcode/protocol.ts';
import { SseParser } from '../netcode/sse.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { expectRefusal, getToken, TestClient } from './helpers/net.ts';
import { EventStream } from './helpers/sse.ts';

const ROOM = 'WATCH';
let srv: RunningServer;
let base: string;
let ws: string;
const players: TestClient[] = [];
let mover: NodeJS.Timeout | undefined;

beforeAll(async () => {
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', npcCount: 2, maxPlayersPerRoom: 2, stateFile: '', replayDir: '' }));
  base = `http://127.0.0.1:${srv.port}`;
  ws = `ws://127.0.0.1:${srv.port}/ws`;
  for (const name of ['ann', 'ben']) {
    const c = new TestClient(`${ws}?room=${ROOM}&token=${await getToken(base, name)}`);
    players.push(c);
    await c.until(() => c.snapshots.length > 0, 5000, `${name}'s first snapshot`);
  }
  // Ann holds "right": a spectator must see her move.
  const ann = players[0];
  mover = setInterval(() => ann.send(ann.net.input({ buttons: BTN_RIGHT, aim: 0 }, ann.net.serverTick, performance.now()).bytes), 33);
});
afterAll(async () => {
  clearInterval(mover);
  for (const p of players) p.close();
  await srv?.close();
});

const spectatorUrl = async (room = ROOM) => `${ws}?room=${room}&token=${await getToken(base, 'watcher')}&spectate=1`;
const watchersSeen = (c: TestClient): number[] =>
  c.snapshots.flatMap((s) => s.events.filter((e) => e[0] === EV_WATCHERS).map((e) => e[1] as number));

describe('spectators over the WebSocket', () => {
  it('a full room refuses a third player but admits a spectator, who sees the players move', async () => {
    const refused = await expectRefusal(`${ws}?room=${ROOM}&token=${await getToken(base, 'cal')}`);
    expect(refused.status).toBe(409);
    const spec = new TestClient(await spectatorUrl());
    const welcome = await spec.until(() => spec.events.find((e) => e.kind === 'welcome'), 5000, 'WELCOME');
    expect(welcome).toMatchObject({ playerId: 0, room: ROOM, watchers: 1 });
    const annId = players[0].net.playerId;
    await spec.until(() => spec.snapshots.length >= 2 && spec.entity(annId), 5000, 'snapshots with ann');
    const x0 = spec.entity(annId)?.x as number;
    await spec.until(() => (spec.entity(annId)?.x as number) > x0 + 20, 5000, 'ann moving right');
    expect(spec.net.stats.desyncs).toBe(0);
    // Both players were told someone watches.
    for (const p of players) await p.until(() => watchersSeen(p).includes(1), 3000, 'EV_WATCHERS 1');
    spec.close();
    for (const p of players) await p.until(() => watchersSeen(p).at(-1) === 0, 3000, 'EV_WATCHERS back to 0');
  });

  it('refuses a spectator\'s INPUT and CHAT with CLOSE_SPECTATOR, and the players keep playing', async () => {
    for (const msg of [
      encodeClient({ type: C_INPUT, ackTick: 0, viewTick: 0, inputs: [{ seq: 1, buttons: BTN_RIGHT, aim: 0 }] }),
      encodeClient({ type: C_CHAT, text: 'hi' }),
    ]) {
      const spec = new TestClient(await spectatorUrl());
      await spec.until(() => spec.snapshots.length > 0, 5000, 'a snapshot');
      const before = players.map((p) => p.snapshots.length);
      spec.send(msg);
      const closed = await spec.until(() => spec.closed ?? undefined, 3000, 'the close');
      expect(closed.code).toBe(CLOSE_SPECTATOR);
      expect(closed.reason).toMatch(/spectators cannot send (inputs|chat): join the room to play/);
      for (const [i, p] of players.entries()) await p.until(() => p.snapshots.length > before[i] + 3, 3000, 'more snapshots');
      expect(players.every((p) => p.closed === null)).toBe(true);
    }
  });

  it('answers 404 for a room nobody holds', async () => {
    const r = await expectRefusal(await spectatorUrl('NOONE'));
    expect(r).toEqual({ status: 404, body: 'no room NOONE to watch' });
  });
});

/** `curl -N` of a URL for `ms`: its whole output. */
function curl(url: string, ms: number, headers: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['-sS', '-N', '--max-time', String(ms / 1000), ...headers.flatMap((h) => ['-H', h]), url];
    const p = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('error', reject);
    p.on('close', () => resolve(out)); // exit 28 at --max-time is the normal end of a stream read
  });
}

describe.runIf(haveBinaries('curl'))('the event stream (SSE)', () => {
  it('curl -N gets one event per tick; with Last-Event-ID it resumes by a delta from that tick', async () => {
    const url = `${base}/api/rooms/${ROOM}/events?token=${await getToken(base, 'curl')}&spectate=1`;
    const events = new SseParser().feed(await curl(url, 1500));
    expect(events[0].event).toBe('open');
    const messages = events.slice(1).map((e) => ({ id: e.id, msg: decodeServer(Buffer.from(e.data, 'base64')) }));
    expect(messages[0].msg).toMatchObject({ ok: true, msg: { type: S_WELCOME, playerId: 0 } });
    const ticks = messages.filter((m) => m.msg.ok && m.msg.msg.type === S_SNAPSHOT).map((m) => Number(m.id));
    expect(ticks.length).toBeGreaterThan(20); // 1.5 s at 30 Hz, minus the start
    for (let i = 1; i < ticks.length; i++) expect(ticks[i], `event ${i}`).toBe(ticks[i - 1] + 1);

    const last = ticks[ticks.length - 1];
    const again = new SseParser().feed(await curl(url, 600, [`Last-Event-ID: ${last}`])).slice(1);
    const welcome = decodeServer(Buffer.from(again[0].data, 'base64'));
    expect(welcome).toMatchObject({ ok: true, msg: { type: S_WELCOME, resumed: true } });
    const first = decodeServer(Buffer.from(again[1].data, 'base64'));
    expect(first.ok && first.msg.type === S_SNAPSHOT).toBe(true);
    if (!first.ok || first.msg.type !== S_SNAPSHOT) return;
    expect(first.msg.baseTick).toBe(last);
    expect(first.msg.tick).toBeGreaterThan(last);
    expect(Number(again[1].id)).toBe(first.msg.tick);
  });

  it('answers bad requests with clear 4xx, and the room\'s players lose nothing', async () => {
    const before = players.map((p) => p.snapshots.length);
    const tok = await getToken(base, 'rude');
    const events = (q: string, headers: Record<string, string> = {}) => fetch(`${base}/api/rooms/${ROOM}/events?${q}`, { headers });
    const text = async (r: Response) => [r.status, await r.text()] as const;
    expect(await text(await events('token=forged'))).toEqual([401, expect.stringMatching(/token/)]);
    expect(await text(await events(`token=${tok}`, { origin: 'https://evil.example' }))).toEqual([403, 'origin https://evil.example is not allowed']);
    expect((await events(`token=${tok}`)).status).toBe(409); // the room is full for players over SSE too

    // A spectator's stream, to POST to.
    const stream = await EventStream.open(`${base}/api/rooms/${ROOM}/events?token=${tok}&spectate=1`);
    expect(stream.contentType).toBe('text/event-stream');
    const conn = (await stream.until((e) => e.event === 'open')).data;
    const post = (body: Uint8Array, opts: { type?: string; token?: string; conn?: string; origin?: string } = {}) =>
      fetch(`${base}/api/rooms/${ROOM}/send?conn=${opts.conn ?? conn}&token=${opts.token ?? tok}`, {
        method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': opts.type ?? 'application/octet-stream', ...(opts.origin ? { origin: opts.origin } : {}) },
      });
    const ping = new Uint8Array([0, 3, 0x92, 4, 1]); // one framed PING [4, 1]
    expect((await post(ping, { type: 'text/plain' })).status).toBe(415);
    expect((await post(ping, { token: 'forged' })).status).toBe(401);
    expect((await post(ping, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(ping, { conn: 'nosuchconn' })).status).toBe(404);
    expect((await post(ping, { token: await getToken(base, 'other') })).status).toBe(403);
    expect((await post(new Uint8Array(9000).fill(1))).status).toBe(413);
    expect(await text(await post(ping))).toEqual([204, '']);
    // Bad framing: 400, and the stream is closed with CLOSE_BAD_MESSAGE.
    const bad = await post(new Uint8Array([0, 9, 1]));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/2-byte big-endian length/);
    expect((await stream.until((e) => e.event === 'close')).data).toMatch(/^4003 /);
    stream.close();

    for (const [i, p] of players.entries()) await p.until(() => p.snapshots.length > before[i] + 10, 3000, 'more snapshots');
    expect(players.every((p) => p.closed === null && p.net.stats.desyncs === 0)).toBe(true);
  });
});
