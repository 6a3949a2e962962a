/**
 * The room's shared snapshot (one publish per tick for every client that holds
 * the previous tick) and the seat fields that make it possible (lastSeq and the
 * anchor travel in each player's own entity).
 */
import { describe, expect, it } from 'vitest';
import { addPlayer, BTN_RIGHT, createWorld } from '../game/sim/index.ts';
import { ARENA_SCHEMA, type SeatState, worldToFrame } from '../game/sim/netschema.ts';
import { frameChecksum } from '../netcode/checksum.ts';
import { decodeServer, encodeClient, encodeServer } from '../netcode/codec.ts';
import { NetClient } from '../netcode/client.ts';
import { encodeDelta } from '../netcode/delta.ts';
import { FrameBuilder } from '../netcode/frame.ts';
import { C_ACK, EV_CHAT, EV_NOTICE, PROTOCOL_VERSION, S_SNAPSHOT, S_WELCOME } from '../netcode/protocol.ts';
import { ASKS_EVERY_TICK, Harness, type Player } from './helpers/room.ts';

/** Each player acks what it applied, as a client's INPUT would, then the room ticks. */
function tickAcked(h: Harness, players: Player[], n = 1): void {
  for (let i = 0; i < n; i++) {
    for (const p of players) p.send(p.net.ack());
    h.ticks(1, players);
  }
}

const snapshotsOf = (p: Player) => p.events.filter((e) => e.kind === 'snapshot');

describe('shared snapshots', () => {
  it('once acked, every client gets the very same published message each tick, one each', () => {
    const h = new Harness();
    const ps = [h.player('Ada'), h.player('Bob'), h.player('Cy')];
    tickAcked(h, ps, 3);
    expect(h.channel.size).toBe(3);
    for (let i = 0; i < 5; i++) {
      for (const p of ps) p.send(p.net.ack());
      h.now += h.period;
      h.room.step(h.now);
      const got = ps.map((p) => p.link.inbox.slice());
      for (const g of got) expect(g).toHaveLength(1);
      expect(got[1][0]).toBe(got[0][0]); // the same buffer: one encode, one publish
      expect(got[2][0]).toBe(got[0][0]);
      for (const p of ps) p.drain();
    }
    for (const p of ps) {
      expect(p.net.stats.desyncs + p.net.stats.decodeErrors).toBe(0);
      expect(snapshotsOf(p).at(-1)?.kind === 'snapshot' && p.net.serverTick).toBe(h.room.tick);
    }
  });

  it('a client that goes private after shared snapshots gets no event twice', () => {
    const h = new Harness({ chatBurst: 1 });
    const [a, b] = [h.player('Ada'), h.player('Bob')];
    tickAcked(h, [a, b], 3);
    a.send(a.net.chat('hello'));
    tickAcked(h, [a, b], 3); // the chat reaches Bob in a shared snapshot
    expect(h.channel.size).toBe(2);
    b.send(b.net.chat('one'));
    b.send(b.net.chat('two')); // over the burst: a notice, so Bob's next snapshot is private
    tickAcked(h, [a, b], 1);
    const chats = (p: Player, text: string) =>
      snapshotsOf(p).flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_CHAT && e[2] === text);
    expect(snapshotsOf(b).flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).some((e) => e[0] === EV_NOTICE)).toBe(true);
    expect(chats(b, 'hello')).toHaveLength(1);
    expect(chats(b, 'one')).toHaveLength(1);
  });

  it('a client that has not acked yet gets private full snapshots, then joins', () => {
    const h = new Harness();
    const a = h.player('Ada');
    h.ticks(2, [a]);
    expect(a.link.joined).toBe(false);
    expect(a.net.stats.snapshots).toBe(2);
    tickAcked(h, [a], 2);
    expect(a.link.joined).toBe(true);
  });

  it('a skipped client leaves the channel, catches up privately from its ack, then rejoins', () => {
    const h = new Harness(ASKS_EVERY_TICK);
    const a = h.player('Ada');
    const b = h.player('Bob');
    tickAcked(h, [a, b], 3);
    expect(b.link.joined).toBe(true);
    b.link.backlog = 10 * h.cfg.backpressureBytes;
    for (let i = 0; i < 6; i++) {
      a.send(a.net.input({ buttons: BTN_RIGHT, aim: 0 }, 0, h.now).bytes);
      if (i === 2) a.send(a.net.chat('you there?'));
      h.ticks(1, [a, b]);
    }
    expect(b.link.joined).toBe(false);
    expect(b.link.inbox).toHaveLength(0);
    expect(a.link.joined).toBe(true);
    b.link.backlog = 0;
    const before = snapshotsOf(b).length;
    tickAcked(h, [a, b], 1);
    const caughtUp = snapshotsOf(b).slice(before);
    expect(caughtUp).toHaveLength(1);
    expect(b.link.joined).toBe(false); // private: its ack is older than the previous tick
    expect(caughtUp[0].kind === 'snapshot' && caughtUp[0].snap.events.some((e) => e[0] === EV_CHAT && e[2] === 'you there?')).toBe(true);
    tickAcked(h, [a, b], 1);
    expect(b.link.joined).toBe(true);
    expect(b.net.stats.desyncs + b.net.stats.decodeErrors).toBe(0);
    expect(b.entity(a.net.playerId)?.x).toBe(a.entity()?.x);
  });

  it('catches a client up from an ack 40 ticks old after the history has recycled its frames', () => {
    const h = new Harness({ ...ASKS_EVERY_TICK, npcCount: 8 }); // drones wander: every frame differs
    const a = h.player('Ada');
    const b = h.player('Bob');
    tickAcked(h, [a, b], 150); // past 2 × HISTORY_TICKS: evicted frames' buffers hold newer frames
    b.link.backlog = 10 * h.cfg.backpressureBytes;
    for (let i = 0; i < 40; i++) {
      a.send(a.net.input({ buttons: i % 20 < 10 ? BTN_RIGHT : 0, aim: 0 }, 0, h.now).bytes);
      h.ticks(1, [a, b]);
    }
    expect(b.link.joined).toBe(false);
    b.link.backlog = 0;
    for (const p of [a, b]) p.send(p.net.ack());
    h.now += h.period;
    h.room.step(h.now);
    const d = decodeServer(b.link.inbox[0]);
    expect(d.ok && d.msg.type === S_SNAPSHOT && d.msg.tick - d.msg.baseTick).toBe(41); // a delta from the old ack, not a full snapshot
    b.drain();
    a.drain();
    tickAcked(h, [a, b], 2);
    expect(b.net.stats.desyncs + b.net.stats.decodeErrors).toBe(0);
    expect(b.entity(a.net.playerId)?.x).toBe(a.entity()?.x);
  });

  it('ignores an ack of a tick out of the baseline ring, also while the client is on the channel', () => {
    for (const which of ['a tick of the live run', 'a private tick the run overwrote'] as const) {
      const h = new Harness();
      const a = h.player('Ada');
      const b = h.player('Bob');
      tickAcked(h, [a, b], 3);
      const stale = which === 'a tick of the live run' ? h.room.tick - 1 : 1;
      tickAcked(h, [a, b], h.cfg.historyTicks + 5);
      expect(b.link.joined).toBe(true);
      b.send(encodeClient({ type: C_ACK, ackTick: 0 })); // "send me a full snapshot"
      b.send(encodeClient({ type: C_ACK, ackTick: stale }));
      b.link.inbox.length = 0;
      h.ticks(1);
      expect(b.link.joined, which).toBe(false);
      const d = decodeServer(b.link.inbox[0]);
      expect(d.ok && d.msg.type === S_SNAPSHOT && d.msg.baseTick, which).toBe(0);
    }
  });

  it('a notice goes out in a private copy that tick, instead of the shared one', () => {
    const h = new Harness({ chatBurst: 1, chatRatePerS: 0.001 });
    const a = h.player('Ada');
    const b = h.player('Bob');
    tickAcked(h, [a, b], 3);
    a.send(a.net.chat('one'));
    a.send(a.net.chat('two')); // over the chat rate: refused with a notice
    for (const p of [a, b]) p.send(p.net.ack());
    h.now += h.period;
    h.room.step(h.now);
    expect(a.link.inbox).toHaveLength(1);
    expect(b.link.inbox).toHaveLength(1);
    expect(a.link.inbox[0]).not.toBe(b.link.inbox[0]);
    const [ea] = a.drain();
    const [eb] = b.drain();
    const kinds = (e: typeof ea) => (e.kind === 'snapshot' ? e.snap.events.map((x) => x[0]) : []);
    expect(kinds(ea)).toEqual([EV_CHAT, EV_NOTICE]);
    expect(kinds(eb)).toEqual([EV_CHAT]);
    tickAcked(h, [a, b], 1);
    expect(a.link.joined).toBe(true);
  });

  it('after a failed apply the client asks for a full snapshot and is back on the channel', () => {
    const h = new Harness();
    const a = h.player('Ada');
    const b = h.player('Bob');
    tickAcked(h, [a, b], 3);
    a.net.replica.reset(); // the baseline of the next shared snapshot is gone
    h.ticks(2, [a, b]);
    expect(a.events.at(-1)?.kind).toBe('bad');
    expect(a.net.stats.decodeErrors).toBe(1);
    expect(a.net.stats.awaitingFull).toBe(1); // the second one was expected to fail too
    tickAcked(h, [a, b], 3);
    expect(a.link.joined).toBe(true);
    expect(a.events.at(-1)?.kind).toBe('snapshot');
  });
});

describe('seat fields', () => {
  /** A NetClient welcomed (resumed) as `playerId` whose last applied input seq was `lastSeq`. */
  function client(playerId: number, lastSeq: number): NetClient {
    const net = new NetClient(ARENA_SCHEMA);
    net.receive(encodeServer({
      type: S_WELCOME, version: PROTOCOL_VERSION, playerId, tickRate: 30, serverTick: 1, room: 'SEATS', roster: [],
      resumed: true, lastSeq, instance: '', watchers: 0,
    }), 0);
    return net;
  }

  function snapshot(tick: number, seats: (id: number) => SeatState | undefined) {
    let w = createWorld({ seed: 5, npcCount: 0 });
    w = addPlayer(w).world;
    w = addPlayer(w).world;
    const frame = worldToFrame(new FrameBuilder(ARENA_SCHEMA), w, tick, seats);
    const body = encodeDelta(ARENA_SCHEMA, null, frame);
    return { world: w, bytes: encodeServer({ type: S_SNAPSHOT, tick, baseTick: 0, checksum: frameChecksum(frame), body, events: [] }) };
  }

  it('the last applied seq comes back from (seq - tick) mod 2^16, across the wrap', () => {
    for (const [tick, applied] of [[200_000, 130_002], [5, 130_002], [70_000, 3]]) {
      const start = applied - 2;
      const net = client(1, start);
      for (let i = 0; i < 3; i++) net.input({ buttons: 0, aim: 0 }, 0, 0); // seqs start+1 .. start+3
      const { bytes } = snapshot(tick, (id) => (id === 1 ? { lastSeq: applied, anchor: null } : undefined));
      const ev = net.receive(bytes, 0);
      expect(ev.kind === 'snapshot' && ev.snap.lastSeq).toBe(applied);
      expect(net.pending.map((p) => p.seq)).toEqual([applied + 1]);
    }
  });

  it('the anchor is the own position as of lastSeq, present only while it differs', () => {
    const net = client(2, 10);
    net.input({ buttons: 0, aim: 0 }, 0, 0);
    const { world, bytes } = snapshot(40, (id) => (id === 2 ? { lastSeq: 11, anchor: { x: 100.125, y: 1199.875 } } : undefined));
    const ev = net.receive(bytes, 0);
    expect(world.players[1].id).toBe(2);
    expect(ev.kind === 'snapshot' && ev.snap.own).toEqual({ x: 100.125, y: 1199.875 });
    const still = snapshot(41, () => ({ lastSeq: 11, anchor: null }));
    const ev2 = net.receive(still.bytes, 0);
    expect(ev2.kind === 'snapshot' && ev2.snap.own).toBeUndefined();
  });
});
