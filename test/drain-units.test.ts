/**
 * The pieces of a drain that need no Redis: the hand-over messages on the bus, the room
 * state's chat (version 2, and version 1 still read), the draining flag in a record and
 * placement, the settings, and a room frozen, moved and restored on virtual time. Then a
 * standalone server drained in-process through POST /api/admin/drain.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeServer } from '../netcode/codec.ts';
import { CLOSE_RESTARTING, EV_CHAT, S_MOVE } from '../netcode/protocol.ts';
import { parseBus } from '../server/cluster/bus.ts';
import { type InstanceRecord, parseRecord, pickInstance } from '../server/cluster/records.ts';
import { loadConfig, stateFileOf } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { decodeSavedRooms, encodeSavedRooms, RoomStateError } from '../server/roomstate.ts';
import { ClusterClient, token } from './helpers/cluster-client.ts';
import { Harness } from './helpers/room.ts';

const rec = (id: string, over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id, url: `http://f/i/${id}`, ws: `ws://f/i/${id}/ws`, boot: 'b', startedAt: 1, at: 2, rooms: [], players: 0, connected: 0,
  maxRooms: 10, cpuS: 0, rssMb: 1, draining: false, ...over,
});

describe('hand-over messages on the bus', () => {
  const base = { v: 1, from: 'a', to: 'b', req: 'r1', code: 'ABCDE' };
  it('reads handover, took and late, cleaning chat text', () => {
    expect(parseBus(JSON.stringify({ ...base, type: 'handover', key: 'tw:handover:ABCDE:r1' }))).toMatchObject({ type: 'handover', key: 'tw:handover:ABCDE:r1' });
    expect(parseBus(JSON.stringify({ ...base, type: 'took', ok: false, reason: 'draining too' }))).toMatchObject({ ok: false, reason: 'draining too' });
    expect(parseBus(JSON.stringify({ ...base, type: 'late', chat: [[3, '  hi\u0000 ']] }))).toMatchObject({ chat: [[3, 'hi']] });
  });
  it('drops what is not one: a key outside tw:handover:, a bad code, a chat line without a player', () => {
    expect(parseBus(JSON.stringify({ ...base, type: 'handover', key: 'tw:rooms' }))).toBeNull();
    expect(parseBus(JSON.stringify({ ...base, type: 'handover', code: 'abc', key: 'tw:handover:x' }))).toBeNull();
    expect(parseBus(JSON.stringify({ ...base, type: 'took', ok: 'yes', reason: '' }))).toBeNull();
    expect(parseBus(JSON.stringify({ ...base, type: 'late', chat: [['x', 'hi']] }))).toBeNull();
    expect(parseBus(JSON.stringify({ ...base, type: 'late', chat: Array.from({ length: 65 }, () => [1, 'x']) }))).toBeNull();
  });
});

describe('a draining instance in the records', () => {
  it('reads the flag (absent = not draining) and never places a room on a draining instance', () => {
    const { draining: _, ...old } = rec('a');
    expect(parseRecord(JSON.stringify(old))?.draining).toBe(false);
    expect(parseRecord(JSON.stringify(rec('a', { draining: true })))?.draining).toBe(true);
    expect(parseRecord(JSON.stringify({ ...rec('a'), draining: 'yes' }))).toBeNull();
    const busy = rec('b', { connected: 100 });
    expect(pickInstance([rec('a', { draining: true }), busy], 'ABCDE', new Map(), 16)?.id).toBe('b');
    expect(pickInstance([rec('a', { draining: true })], 'ABCDE', new Map(), 16)).toBeNull();
  });
});

describe('drain settings', () => {
  it('STATE_FILE empty turns it off; a cluster instance left at the default gets a file of its own; DRAIN_DEADLINE_S is checked', () => {
    expect(loadConfig({ STATE_FILE: '' }).stateFile).toBe('');
    expect(stateFileOf(loadConfig({}))).toBe('data/rooms.state');
    expect(stateFileOf({ ...loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), instanceId: 'b' })).toBe('data/rooms-b.state');
    expect(stateFileOf({ ...loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', STATE_FILE: '/srv/x.state' }), instanceId: 'b' })).toBe('/srv/x.state');
    expect(loadConfig({}).drainDeadlineS).toBe(10);
    expect(() => loadConfig({ DRAIN_DEADLINE_S: '0' })).toThrow(/DRAIN_DEADLINE_S must be a number in \[0.5, 600\]/);
  });
});

describe('a room frozen, moved and restored (virtual time)', () => {
  it('stops stepping, keeps chat said meanwhile, tells every socket where it went, and the restored room says the chat', () => {
    const h = new Harness();
    const ada = h.player('Ada');
    const bob = h.player('Bob');
    h.ticks(5, [ada, bob]);
    ada.send(ada.net.chat('before the freeze'));
    const state = h.room.freeze();
    expect(h.room.frozen).toBe(true);
    expect(state.chat).toEqual([[ada.net.playerId, 'before the freeze']]);
    bob.send(bob.net.chat('during the hand-over'));
    expect(h.room.takeChat()).toEqual([[bob.net.playerId, 'during the hand-over']]);
    expect(h.room.takeChat()).toEqual([]); // taken once

    const links = h.room.moveAll('ws://f/i/b/ws', 'b', 'room TESTS moved to instance b');
    expect(links.length).toBe(2);
    for (const p of [ada, bob]) {
      const last = decodeServer(p.link.inbox.at(-1)!);
      expect(last.ok && last.msg).toEqual({ type: S_MOVE, url: 'ws://f/i/b/ws', instance: 'b', reason: 'room TESTS moved to instance b' });
      expect(p.link.closed).toBeNull(); // the drain closes them a moment later
    }

    // Version 2 carries the chat through the bytes; the new owner says it with its first step.
    const back = decodeSavedRooms(encodeSavedRooms({ savedAt: 1, tickRate: 30, rooms: [state] })).rooms[0];
    const g = new Harness();
    g.room.restore(back, g.now, 0);
    const ada2 = g.player('Ada');
    g.ticks(1, [ada2]);
    const chats = ada2.events.flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_CHAT);
    expect(chats).toEqual([[EV_CHAT, ada.net.playerId, 'before the freeze']]);
  });

  it('reads a version 1 room (no chat) and refuses a chat line of a player not in the world', () => {
    const h = new Harness();
    h.player('Ada');
    h.ticks(2);
    const saved = { savedAt: 1, tickRate: 30, rooms: [h.room.state()] };
    const doc = decode(encodeSavedRooms(saved)) as Record<string, unknown> & { rooms: Record<string, unknown>[] };
    const v1 = { ...doc, version: 1, rooms: doc.rooms.map(({ chat: _, ...r }) => r) };
    expect(decodeSavedRooms(encode(v1)).rooms[0].chat).toEqual([]);
    const bad = { ...doc, rooms: doc.rooms.map((r) => ({ ...r, chat: [[999, 'hi']] })) };
    expect(() => decodeSavedRooms(encode(bad))).toThrow(RoomStateError);
    expect(() => decodeSavedRooms(encode(bad))).toThrow(/rooms\[0\]\.chat\[0\]: expected \[playerId of the world/);
  });
});

describe('a standalone server drained through POST /api/admin/drain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-drain-unit-'));
  let srv: RunningServer | undefined;
  afterAll(async () => {
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 202, reports draining on /healthz (503), saves the room, tells its player the server restarts, and opens no room after', async () => {
    const file = join(dir, 'rooms.state');
    const admin = 'unit-admin-token-0123456789';
    srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 's', npcCount: 2, stateFile: file, adminToken: admin }));
    const base = srv.url;
    const p = new ClusterClient(`ws://127.0.0.1:${srv.port}/ws`, 'SOLOS', await token(base, 'Sol'), base);
    try {
      await p.until(() => p.live && p.snapshots > 2, 'Sol playing', 5000);
      expect((await fetch(`${base}/api/admin/drain`, { method: 'POST' })).status).toBe(401);
      const res = await fetch(`${base}/api/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ draining: true, already: false, rooms: 1, players: 1, deadline_s: 10 });
      await p.until(() => p.states.some((s) => s.code === CLOSE_RESTARTING), 'Sol told the server restarts', 3000);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'draining', rooms: 0 });
      expect(decodeSavedRooms(readFileSync(file)).rooms.map((r) => r.code)).toEqual(['SOLOS']);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^tickwire_draining 1$/m);
      expect(metrics).toMatch(/^tickwire_handover_saved_total 1$/m);
      expect(metrics).toMatch(/^tickwire_handover_rooms_total 0$/m);
      // A second drain request is the same drain.
      const again = await fetch(`${base}/api/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
      expect(await again.json()).toMatchObject({ already: true });
      // No room opens on a draining server.
      const tok = await token(base, 'Late');
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${srv!.port}/ws?room=NEWER&token=${encodeURIComponent(tok)}`, { origin: base });
        ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
        ws.on('open', () => { ws.close(); resolve(101); });
      });
      expect(status).toBe(503);
    } finally {
      p.close();
    }
  });
});
