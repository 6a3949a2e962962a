/**
 * The browser side of spectators and the SSE fallback, as pure logic: NetClient in
 * spectator mode (hand-made server messages, then a real Room in memory), the link's
 * fallback from WebSocket to SSE (fake sockets and a fake fetch, on virtual time),
 * the spectator's camera, and the small parsers (transportFromQuery, socketUrl).
 */
import { describe, expect, it } from 'vitest';
import { socketUrl } from '../game/client/src/api.ts';
import { Link, WS_FAILURES_BEFORE_SSE } from '../game/client/src/link.ts';
import { formatFigures, type Figures } from '../game/client/src/netgraph.ts';
import { transportFromQuery } from '../game/client/src/transport.ts';
import { NO_PAN, PAN_SPEED, WatchCamera } from '../game/client/src/watchcam.ts';
import { BTN_RIGHT } from '../game/sim/constants.ts';
import { addPlayer, createWorld, type World } from '../game/sim/index.ts';
import { ARENA_SCHEMA, worldToFrame } from '../game/sim/netschema.ts';
import { frameChecksum } from '../netcode/checksum.ts';
import { FULL_REQUEST_EVERY_MS, NetClient } from '../netcode/client.ts';
import { decodeClient, encodeClient, encodeServer } from '../netcode/codec.ts';
import { encodeDelta } from '../netcode/delta.ts';
import { FrameBuilder, type Frame } from '../netcode/frame.ts';
import {
  C_ACK, C_INPUT, CLOSE_SPECTATOR, EV_WATCHERS, PROTOCOL_VERSION, S_SNAPSHOT, S_WELCOME, type WireEvent,
} from '../netcode/protocol.ts';
import type { WebSocketLike } from '../netcode/socket.ts';
import { SseSocket } from '../netcode/ssesocket.ts';
import { FakeLink, Harness } from './helpers/room.ts';

const welcome = (playerId: number, watchers: number, resumed = false) => encodeServer({
  type: S_WELCOME, version: PROTOCOL_VERSION, playerId, tickRate: 30, serverTick: 10, room: 'WATCH', roster: [[1, 'Ada', 1]],
  resumed, lastSeq: 0, instance: '', watchers,
});

/** Snapshots of a world with two players, as the server would send them (deltas against `base`, or full). */
class Server {
  world: World = addPlayer(addPlayer(createWorld({ seed: 3, npcCount: 2 })).world).world;
  private readonly frames = new Map<number, Frame>();

  snapshot(tick: number, baseTick = 0, events: WireEvent[] = [], checksum?: number): Uint8Array {
    const frame = worldToFrame(new FrameBuilder(ARENA_SCHEMA), this.world, tick);
    this.frames.set(tick, frame);
    const body = encodeDelta(ARENA_SCHEMA, baseTick ? (this.frames.get(baseTick) ?? null) : null, frame);
    return encodeServer({ type: S_SNAPSHOT, tick, baseTick, checksum: checksum ?? frameChecksum(frame), body, events });
  }
}

const typeOf = (bytes: Uint8Array) => {
  const d = decodeClient(bytes);
  if (!d.ok) throw new Error(d.reason);
  return d.msg;
};

describe('NetClient as a spectator', () => {
  it('a WELCOME with playerId 0 is a spectator: no inputs, no chat, every ACK is ACK 0', () => {
    const net = new NetClient(ARENA_SCHEMA);
    const ev = net.receive(welcome(0, 3), 0);
    expect(ev).toMatchObject({ kind: 'welcome', playerId: 0, watchers: 3 });
    expect([net.spectator, net.watchers]).toEqual([true, 3]);
    const srv = new Server();
    expect(net.receive(srv.snapshot(11), 0).kind).toBe('snapshot');
    expect(net.receive(srv.snapshot(12, 11), 0).kind).toBe('snapshot');
    expect(net.ackTick).toBe(12);
    expect(() => net.input({ buttons: BTN_RIGHT, aim: 0 }, 12, 0)).toThrow(/spectator/);
    expect(() => net.chat('hi')).toThrow(/spectator/);
    expect(net.pending).toHaveLength(0);
    expect(typeOf(net.ack())).toEqual({ type: C_ACK, ackTick: 0 });
    expect(typeOf(net.hello())).toMatchObject({ resumeTick: 12 }); // a reconnect resumes by delta
  });

  it('holds every player as the server sent it: no own entity, nothing predicted', () => {
    const net = new NetClient(ARENA_SCHEMA);
    net.receive(welcome(0, 1), 0);
    const srv = new Server();
    const ev = net.receive(srv.snapshot(11), 0);
    if (ev.kind !== 'snapshot') throw new Error(ev.kind);
    expect(ev.snap.own).toBeUndefined();
    expect(ev.snap.lastSeq).toBe(0);
    const held = new Set([...net.replica.entities()].map((e) => e.id));
    for (const p of srv.world.players) expect(held.has(p.id)).toBe(true);
  });

  it('asks for a full snapshot with ACK 0 after one fails, once a second, until a full one applies', () => {
    const net = new NetClient(ARENA_SCHEMA);
    net.receive(welcome(0, 1), 0);
    const srv = new Server();
    net.receive(srv.snapshot(11), 0);
    expect(net.fullRequest(0)).toBeNull(); // nothing wrong
    expect(net.receive(srv.snapshot(12, 11, [], 12345), 100).kind).toBe('bad'); // a checksum that does not match
    expect(net.stats.desyncs).toBe(1);
    const ask = net.fullRequest(100);
    expect(ask && typeOf(ask)).toEqual({ type: C_ACK, ackTick: 0 });
    expect(net.fullRequest(100 + FULL_REQUEST_EVERY_MS - 1)).toBeNull();
    expect(net.receive(srv.snapshot(13, 12), 600).kind).toBe('bad'); // the shared stream: its baseline is gone
    expect(net.fullRequest(100 + FULL_REQUEST_EVERY_MS)).not.toBeNull(); // asked again, none came yet
    expect(net.receive(srv.snapshot(14), 1200).kind).toBe('snapshot');
    expect(net.fullRequest(5000)).toBeNull();
    expect(net.ackTick).toBe(14);
  });

  it('counts the room\'s spectators from WELCOME and EV_WATCHERS, for players too; a player never asks with fullRequest', () => {
    const net = new NetClient(ARENA_SCHEMA);
    net.receive(welcome(1, 0), 0);
    expect([net.spectator, net.watchers]).toEqual([false, 0]);
    const srv = new Server();
    net.receive(srv.snapshot(11, 0, [[EV_WATCHERS, 2]]), 0);
    expect(net.watchers).toBe(2);
    net.receive(srv.snapshot(12, 11, [[EV_WATCHERS, 0]], 1), 0); // even a snapshot that fails carries its events
    expect(net.watchers).toBe(0);
    expect(net.fullRequest(10_000)).toBeNull();
    expect(typeOf(net.input({ buttons: 0, aim: 0 }, 0, 0).bytes).type).toBe(C_INPUT);
  });
});

describe('a spectator in a real room (in memory)', () => {
  it('sees the player move, is counted by the players, and is closed with CLOSE_SPECTATOR if it sends an INPUT', () => {
    const h = new Harness();
    const ada = h.player('Ada');
    const net = new NetClient(ARENA_SCHEMA);
    const link = new FakeLink(() => { if (viewer) h.room.unwatch(viewer); }, h.channel);
    const viewer = h.room.watch(link, 'spec1', h.now);
    if (!viewer) throw new Error('refused');
    const drain = () => {
      for (const b of link.inbox.splice(0)) net.receive(b, h.now);
    };
    h.room.receiveWatcher(viewer, net.hello(), h.now);
    drain();
    expect([net.spectator, net.playerId, net.watchers]).toEqual([true, 0, 1]);
    const x0 = () => [...net.replica.entities()].find((e) => e.id === ada.net.playerId)?.obj.x;
    for (let i = 0; i < 3; i++) {
      ada.send(ada.net.input({ buttons: 0, aim: 0 }, ada.net.serverTick, h.now).bytes);
      h.ticks(1, [ada]);
      drain();
    }
    const start = x0();
    expect(start).toBeTypeOf('number');
    for (let i = 0; i < 15; i++) {
      ada.send(ada.net.input({ buttons: BTN_RIGHT, aim: 0 }, ada.net.serverTick, h.now).bytes);
      h.ticks(1, [ada]);
      drain();
      const full = net.fullRequest(h.now);
      if (full) h.room.receiveWatcher(viewer, full, h.now);
      h.room.receiveWatcher(viewer, net.ping(h.now), h.now);
    }
    expect((x0() ?? 0) - (start ?? 0)).toBeGreaterThan(20);
    expect(ada.net.watchers).toBe(1); // EV_WATCHERS reached the player
    expect(net.stats.desyncs).toBe(0);
    expect(link.closed).toBeNull();
    h.room.receiveWatcher(viewer, encodeClient({ type: C_INPUT, ackTick: 0, viewTick: 0, inputs: [{ seq: 1, buttons: 0, aim: 0 }] }), h.now);
    drain();
    expect(link.closed?.code).toBe(CLOSE_SPECTATOR);
  });
});

/** A WebSocketLike the test opens or fails by hand. */
class FakeWs implements WebSocketLike {
  binaryType = 'blob';
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(): void {}
  close(): void { this.readyState = 3; }
  open(): void { this.readyState = 1; this.onopen?.({}); }
  fail(): void { this.readyState = 3; this.onerror?.({}); this.onclose?.({ code: 1006, reason: '' }); }
}

/**
 * A Link on virtual time whose WebSockets are fakes and whose SSE fetches are recorded (and never
 * answered); its /healthz probe is answered when `httpUp` (the upgrade alone is blocked), else fails.
 */
function link(opts: { transport?: 'ws' | 'sse'; held?: number; httpUp?: boolean } = {}) {
  const sockets: WebSocketLike[] = [];
  const fetches: { url: string; headers: Record<string, string> }[] = [];
  const probes: string[] = [];
  let now = 0;
  const l = new Link({
    url: () => 'ws://game.test/ws?room=WATCH&token=t&spectate=1',
    sim: null, clock: () => now, random: () => 0.5, onOpen: () => {}, onState: () => {},
    transport: opts.transport, heldTick: () => opts.held ?? 0,
    openWebSocket: (url) => new FakeWs(url),
    onSocket: (ws) => sockets.push(ws),
    fetch: ((url: string, init?: RequestInit) => {
      if (url.endsWith('/healthz')) {
        probes.push(url);
        return opts.httpUp === false ? Promise.reject(new TypeError('fetch failed')) : Promise.resolve(new Response('{}'));
      }
      fetches.push({ url, headers: { ...(init?.headers as Record<string, string>) } });
      return new Promise<Response>(() => {});
    }) as typeof fetch,
  });
  const last = () => sockets[sockets.length - 1];
  /** Runs the link's timers past the next retry. */
  const later = () => {
    now += 2000;
    l.update(now);
  };
  return { l, sockets, fetches, probes, last, later, connect: () => l.connect(now) };
}

describe('the link falls back to SSE', () => {
  it(`after ${WS_FAILURES_BEFORE_SSE} WebSocket attempts in a row that never opened while HTTP answers, and stays on it`, async () => {
    const t = link({ held: 42 });
    t.connect();
    expect(t.l.transport).toBe('ws');
    (t.last() as FakeWs).fail();
    t.later();
    expect(t.last()).toBeInstanceOf(FakeWs);
    expect(t.probes).toEqual([]);
    (t.last() as FakeWs).fail();
    expect(t.probes).toEqual(['http://game.test/healthz']);
    await Promise.resolve();
    expect(t.l.transport).toBe('sse');
    t.later();
    expect(t.last()).toBeInstanceOf(SseSocket);
    expect(t.fetches[0].url).toBe('http://game.test/api/rooms/WATCH/events?token=t&spectate=1');
    expect(t.fetches[0].headers['last-event-id']).toBe('42'); // the tick held: a resume by delta
    (t.last() as SseSocket).close(4999, 'test');
    return Promise.resolve().then(() => {
      t.later();
      expect(t.last()).toBeInstanceOf(SseSocket); // never back to the WebSocket
      expect(t.sockets).toHaveLength(4);
    });
  });

  it('stays on the WebSocket when the server does not answer HTTP either (down or restarting)', async () => {
    const t = link({ httpUp: false });
    t.connect();
    for (let i = 0; i < 4; i++) {
      (t.last() as FakeWs).fail();
      await new Promise((r) => setTimeout(r, 0));
      t.later();
    }
    expect(t.probes.length).toBeGreaterThanOrEqual(2); // asked again after each failed attempt
    expect(t.l.transport).toBe('ws');
    expect(t.sockets.every((s) => s instanceof FakeWs)).toBe(true);
  });

  it('does not count a WebSocket that opened and then dropped', () => {
    const t = link();
    t.connect();
    (t.last() as FakeWs).fail();
    t.later();
    (t.last() as FakeWs).open();
    expect(t.l.socket.unopened).toBe(0);
    (t.last() as FakeWs).fail(); // a drop after open: not a refused upgrade
    t.later();
    (t.last() as FakeWs).fail();
    expect(t.l.socket.unopened).toBe(1);
    expect(t.l.transport).toBe('ws');
    t.later();
    expect(t.last()).toBeInstanceOf(FakeWs);
  });

  it('uses SSE from the first attempt when asked, with no Last-Event-ID when nothing is held', () => {
    const t = link({ transport: 'sse' });
    t.connect();
    expect(t.last()).toBeInstanceOf(SseSocket);
    expect(t.fetches[0].headers['last-event-id']).toBeUndefined();
  });
});

describe('transportFromQuery and socketUrl', () => {
  it('reads ?transport=', () => {
    expect(transportFromQuery('?transport=sse')).toBe('sse');
    expect(transportFromQuery('transport=ws&lag=100')).toBe('ws');
    expect(transportFromQuery('?lag=100&transport=sse')).toBe('sse');
    expect([transportFromQuery(''), transportFromQuery('?transport=SSE'), transportFromQuery('?transport=udp')]).toEqual([null, null, null]);
  });

  it('adds &spectate=1 for a spectator, at the page\'s /ws or an instance\'s endpoint', () => {
    const loc = { protocol: 'https:', host: 'play.example' };
    expect(socketUrl(loc, 'ABCDE', 't k')).toBe('wss://play.example/ws?room=ABCDE&token=t%20k');
    expect(socketUrl(loc, 'ABCDE', 't', null, true)).toBe('wss://play.example/ws?room=ABCDE&token=t&spectate=1');
    expect(socketUrl(loc, 'ABCDE', 't', 'wss://play.example/i/b/ws', true)).toBe('wss://play.example/i/b/ws?room=ABCDE&token=t&spectate=1');
  });

  it('the netgraph names the transport, and a spectator\'s lack of prediction', () => {
    const f: Figures = {
      ping: 0, jitter: 0, snapshotRate: 0, kbpsIn: 0, kbpsOut: 0, interpDelay: 0, transit: 0, bufferMs: 0, extrapolating: false,
      corrections: 0, correctionLast: 0, correctionMax: 0, correctionP99: 0, pendingInputs: 0, fps: 0, frameWorkMs: 0,
      frameWorkMsP95: 0, entities: 0, desyncs: 0, sim: '', instance: '', redirects: 0, moves: 0,
    };
    expect(formatFigures(f).split('\n')[1]).toBe('transport ws');
    const text = formatFigures({ ...f, transport: 'sse', spectator: true, watchers: 2 });
    expect(text.split('\n')[1]).toBe('transport sse   spectating   2 watching');
    expect(text).toMatch(/predict {3}none/);
  });
});

describe('WatchCamera', () => {
  const players = [
    { id: 1, x: 100, y: 100, hp: 100, score: 1 },
    { id: 2, x: 500, y: 300, hp: 100, score: 4 },
    { id: 3, x: 900, y: 700, hp: 0, score: 9 },
  ];
  const centre = { x: 800, y: 600 };

  it('follows the leader alive, and stays on it while it lives', () => {
    const c = new WatchCamera();
    expect(c.update(0, players, NO_PAN, centre, 1)).toEqual({ x: 500, y: 300 });
    const later = players.map((p) => (p.id === 1 ? { ...p, score: 7 } : p));
    expect(c.update(16, later, NO_PAN, centre, 1)).toEqual({ x: 500, y: 300 }); // sticky
    const dead = later.map((p) => (p.id === 2 ? { ...p, hp: 0 } : p));
    expect(c.update(32, dead, NO_PAN, centre, 1)).toEqual({ x: 100, y: 100 });
  });

  it('follows a chosen or clicked player; any pan makes it free', () => {
    const c = new WatchCamera();
    c.follow(3);
    expect(c.update(0, players, NO_PAN, centre, 1)).toEqual({ x: 900, y: 700 });
    expect(c.pick(130, 90, players)).toBe(true);
    expect(c.choice).toBe(1);
    expect(c.pick(300, 300, players)).toBe(false);
    expect(c.update(16, players, { ...NO_PAN, dragX: 40, dragY: -20 }, centre, 2)).toEqual({ x: 780, y: 610 });
    expect(c.choice).toBe('free');
    expect(c.update(32, players, NO_PAN, centre, 1)).toBeNull(); // free and still: stay
    const moved = c.update(132, players, { ...NO_PAN, keyX: 1 }, centre, 1);
    expect(moved?.x).toBeCloseTo(800 + PAN_SPEED * 0.1);
    c.follow(0);
    expect(c.choice).toBe('auto');
  });
});
