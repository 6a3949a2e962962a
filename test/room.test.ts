import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { BTN_FIRE, BTN_RIGHT, PLAYER_MAX_HP, PLAYER_SPEED, SHOT_DAMAGE } from '../game/sim/index.ts';
import { encodeClient } from '../netcode/codec.ts';
import {
  CLOSE_TOO_SLOW, C_HELLO, CLOSE_BAD_MESSAGE, CLOSE_BAD_VERSION, CLOSE_NO_HELLO, CLOSE_RATE_LIMIT, CLOSE_REPLACED, CLOSE_ROOM_FULL,
  EV_CHAT, EV_JOIN, EV_LEAVE, EV_NOTICE,
} from '../netcode/protocol.ts';
import { ASKS_EVERY_TICK, Harness, Player } from './helpers/room.ts';

describe('Room on an in-memory transport', () => {
  it('welcomes players and sends each a snapshot every tick, with full then delta bodies', () => {
    const h = new Harness();
    const a = h.player('Ada');
    const b = h.player('Bob');
    expect(a.events[0]).toMatchObject({ kind: 'welcome', tickRate: 30, room: 'TESTS', resumed: false });
    h.ticks(10, [a, b]);
    const snaps = b.events.filter((e) => e.kind === 'snapshot');
    expect(snaps).toHaveLength(10);
    expect(b.net.stats.desyncs).toBe(0);
    expect(b.entity(a.net.playerId)).toBeDefined();
    expect([...b.net.roster.values()].map((r) => r.name).sort()).toEqual(['Ada', 'Bob']);
  });

  it('moves a player by its inputs, in sequence, and reports the last applied seq', () => {
    const h = new Harness();
    const a = h.player('Ada');
    h.ticks(1, [a]);
    const x0 = a.entity()?.x as number;
    for (let i = 0; i < 6; i++) {
      a.send(a.net.input({ buttons: BTN_RIGHT, aim: 0 }, 0, h.now).bytes);
      h.ticks(1, [a]);
    }
    const last = a.events.at(-1);
    expect(last?.kind === 'snapshot' && last.snap.lastSeq).toBe(6);
    expect(a.entity()?.x).toBeCloseTo(x0 + 6 * PLAYER_SPEED / 30, 0);
  });

  it('closes a client that sends garbage with 4003 and a reason, without disturbing the others', () => {
    const h = new Harness();
    const a = h.player('Ada');
    const b = h.player('Bob');
    h.ticks(2, [a, b]);
    a.send(encode([99, 'nonsense']));
    expect(a.link.closed).toEqual({ code: CLOSE_BAD_MESSAGE, reason: 'unknown message type 99' });
    a.drop();
    const before = b.net.stats.snapshots;
    h.ticks(3, [b]);
    expect(b.net.stats.snapshots).toBe(before + 3);
    expect(b.net.stats.desyncs).toBe(0);
  });

  it('requires HELLO first, with the right protocol version', () => {
    const h = new Harness();
    const early = new Player(h, 'x', 'Xi').connect(false);
    early.send(early.net.ping(0));
    expect(early.link.closed?.code).toBe(CLOSE_NO_HELLO);
    const old = new Player(h, 'old', 'Old').connect(false);
    old.send(encodeClient({ type: C_HELLO, version: 999, resumeTick: 0 }));
    expect(old.link.closed?.code).toBe(CLOSE_BAD_VERSION);
  });

  it('closes a socket that never says HELLO after the timeout', () => {
    const h = new Harness({ helloTimeoutS: 1 });
    const a = h.player('Ada');
    a.connect(false);
    h.ticks(31);
    expect(a.link.closed?.code).toBe(CLOSE_NO_HELLO);
  });

  it('rate-limits a flooding client (4004) and refuses chat beyond its rate with a notice', () => {
    const h = new Harness({ msgRatePerS: 10, msgBurst: 5, chatRatePerS: 1, chatBurst: 2 });
    const a = h.player('Ada');
    const b = h.player('Bob');
    for (let i = 0; i < 3; i++) b.send(b.net.chat(`hi ${i}`));
    h.ticks(1, [a, b]);
    const chats = a.events.flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_CHAT);
    expect(chats.map((c) => c[2])).toEqual(['hi 0', 'hi 1']);
    const notices = b.events.flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_NOTICE);
    expect(notices).toHaveLength(1);
    for (let i = 0; i < 10; i++) a.send(a.net.ping(0));
    expect(a.link.closed?.code).toBe(CLOSE_RATE_LIMIT);
  });

  it('refuses a player beyond the room size', () => {
    const h = new Harness({ maxPlayersPerRoom: 2 });
    h.player('A');
    h.player('B');
    expect(h.room.admits('C').ok).toBe(false);
    const c = h.player('C');
    expect(c.link.closed?.code).toBe(CLOSE_ROOM_FULL);
  });

  it('keeps a dropped seat for the grace period and resumes it with the same player', () => {
    const h = new Harness({ resumeGraceS: 2 });
    const a = h.player('Ada');
    h.ticks(5, [a]);
    const id = a.net.playerId;
    a.drop();
    h.ticks(30);
    a.connect();
    expect(a.events.at(-1)).toMatchObject({ kind: 'welcome', playerId: id, resumed: true });
    h.ticks(2, [a]);
    expect(a.net.stats.desyncs).toBe(0);
    expect(a.entity(id)).toBeDefined();
  });

  it('frees the seat when the grace period runs out', () => {
    const h = new Harness({ resumeGraceS: 1 });
    const a = h.player('Ada');
    const b = h.player('Bob');
    h.ticks(2, [a, b]);
    a.drop();
    h.ticks(40, [b]);
    expect(b.entity(a.net.playerId)).toBeUndefined();
    expect(b.net.roster.has(a.net.playerId)).toBe(false);
    a.connect();
    expect(a.events.at(-1)).toMatchObject({ kind: 'welcome', resumed: false });
  });

  it('replaces an older socket of the same session', () => {
    const h = new Harness();
    const a = h.player('Ada');
    const oldLink = a.link;
    a.connect();
    expect(oldLink.closed?.code).toBe(CLOSE_REPLACED);
  });

  it('skips snapshots of a backed-up client and catches it up by delta from its last ack', () => {
    const h = new Harness(ASKS_EVERY_TICK);
    const a = h.player('Ada');
    const b = h.player('Bob');
    h.ticks(3, [a, b]);
    b.send(b.net.ack());
    b.link.backlog = 10 * h.cfg.backpressureBytes;
    for (let i = 0; i < 10; i++) {
      a.send(a.net.input({ buttons: BTN_RIGHT, aim: 0 }, 0, h.now).bytes);
      h.ticks(1, [a, b]);
    }
    expect(h.room.snapshotCounts.skipped).toBe(10);
    b.link.backlog = 0;
    h.ticks(1, [a, b]);
    const last = b.events.at(-1);
    expect(last?.kind === 'snapshot' && last.snap.frame.tick).toBe(h.room.tick);
    expect(b.net.stats.desyncs).toBe(0);
    expect(b.entity(a.net.playerId)?.x).toBe(a.entity()?.x);
  });

  it('delivers events that happened while a client was skipped', () => {
    const h = new Harness(ASKS_EVERY_TICK);
    const a = h.player('Ada');
    h.ticks(2, [a]);
    a.link.backlog = 10 * h.cfg.backpressureBytes; // backed up, under SLOW_READER_BYTES (past it, it is closed)
    h.player('Bob');
    h.ticks(3, [a]);
    a.link.backlog = 0;
    h.ticks(1, [a]);
    const joins = a.events.flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_JOIN);
    expect(joins.map((j) => j[2])).toContain('Bob');
  });

  it('closes a client skipped SLOW_READER_S in a row, or holding more than SLOW_READER_BYTES, with CLOSE_TOO_SLOW; its seat waits', () => {
    const h = new Harness({ ...ASKS_EVERY_TICK, slowReaderS: 0.5 });
    const a = h.player('Ada');
    const b = h.player('Bob');
    h.ticks(2, [a, b]);
    b.link.backlog = 10 * h.cfg.backpressureBytes;
    const run = Math.round(0.5 * h.cfg.tickRate);
    h.ticks(run - 1, [a]);
    expect(b.link.closed).toBeNull(); // skipped, still open
    h.ticks(1, [a]);
    expect(b.link.closed).toMatchObject({ code: CLOSE_TOO_SLOW, reason: `connection too slow: ${run} snapshots skipped in a row (0.5 s)` });
    expect(h.room.playerCount).toBe(2); // the seat waits for the resume
    expect(h.room.snapshotCounts.slowClosed).toBe(1);
    // A break in the skipping starts the count again; holding too much closes at once.
    const c = h.player('Cy');
    h.ticks(2, [a, c]);
    c.link.backlog = h.cfg.slowReaderBytes + 1;
    h.ticks(1, [a, c]);
    expect(c.link.closed).toMatchObject({ code: CLOSE_TOO_SLOW, reason: `connection too slow: ${Math.round((h.cfg.slowReaderBytes + 1) / 1024)} KiB waiting to be read` });
  });

  it('with interest management, entities enter and leave a client\'s view as it moves, without desyncs', () => {
    const h = new Harness({ viewRadius: 200, viewCell: 200, npcCount: 0 });
    const a = h.player('Ada');
    const b = h.player('Bob');
    const place = (id: number, x: number, y: number) => {
      h.room.world = { ...h.room.world, players: h.room.world.players.map((p) => (p.id === id ? { ...p, x, y } : p)) };
    };
    place(a.net.playerId, 100, 100);
    place(b.net.playerId, 1500, 1100);
    h.ticks(3, [a, b]);
    a.send(a.net.ack());
    b.send(b.net.ack());
    expect(a.entity(b.net.playerId)).toBeUndefined();
    place(b.net.playerId, 300, 150); // into A's view
    h.ticks(2, [a, b]);
    expect(a.entity(b.net.playerId)).toMatchObject({ x: 300, y: 150 });
    place(b.net.playerId, 1500, 1100); // and out again
    h.ticks(2, [a, b]);
    expect(a.entity(b.net.playerId)).toBeUndefined();
    expect(a.net.stats.desyncs + b.net.stats.desyncs + a.net.stats.decodeErrors + b.net.stats.decodeErrors).toBe(0);
  });

  it('a newer socket of the same session that replaced one before HELLO gets the seat and its snapshots', () => {
    const h = new Harness();
    const a = new Player(h, 'same', 'Ada').connect(false);
    const first = a.link;
    a.connect(); // same session again, with HELLO this time
    expect(first.closed?.code).toBe(CLOSE_REPLACED);
    h.ticks(3, [a]);
    expect(a.net.stats.snapshots).toBe(3);
    expect(h.room.playerCount).toBe(1);
    expect(h.room.world.players).toHaveLength(1);
  });

  it('keeps a dropped player where it stood: no guessed steps without a socket', () => {
    const h = new Harness();
    const a = h.player('Ada');
    const b = h.player('Bob');
    for (let i = 0; i < 5; i++) {
      a.send(a.net.input({ buttons: BTN_RIGHT, aim: 0 }, 0, h.now).bytes);
      h.ticks(1, [a, b]);
    }
    const x = () => h.room.world.players.find((p) => p.id === a.net.playerId)?.x;
    const before = x();
    h.ticks(1, [a, b]); // connected, no input: the last one is repeated as a guess
    expect(x()).toBeGreaterThan(before as number);
    a.drop();
    const dropped = x();
    h.ticks(3, [b]);
    expect(x()).toBe(dropped);
  });

  it('seats whose grace ends in the same step leave in the order they joined, whichever dropped first', () => {
    const h = new Harness({ resumeGraceS: 1 });
    const [a, b, c] = [h.player('Ada'), h.player('Bob'), h.player('Cy')];
    h.ticks(2, [a, b, c]);
    b.drop();
    a.drop();
    h.ticks(40, [c]);
    const leaves = c.events.flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_LEAVE);
    expect(leaves.map((e) => e[1])).toEqual([a.net.playerId, b.net.playerId]);
  });

  it('ignores a member object whose seat was released, even when its row went to someone else', () => {
    const h = new Harness();
    const a = new Player(h, 'Ada', 'Ada').connect(false); // never says HELLO
    const stale = a.member;
    a.drop(); // no player yet: the seat and its row are released at once
    const b = h.player('Bob');
    expect(b.member?.row).toBe(stale?.row); // the row is Bob's now
    b.send(b.net.input({ buttons: BTN_RIGHT, aim: 0 }, 0, h.now).bytes);
    const before = b.member?.inputs.pending;
    a.send(b.net.input({ buttons: BTN_RIGHT, aim: 0 }, 0, h.now).bytes); // through the stale member
    a.send(new Uint8Array([1, 2, 3])); // garbage: no close to send, no throw
    expect(b.member?.inputs.pending).toBe(before);
    expect(b.link.closed).toBeNull();
  });

  it('counts connected sockets through a replacement, a drop, a HELLO timeout and the end of a grace', () => {
    const h = new Harness({ resumeGraceS: 1, helloTimeoutS: 0.5 });
    const a = h.player('Ada');
    const b = h.player('Bob');
    expect(h.room.connectedCount).toBe(2);
    a.connect(); // replaces Ada's socket: still one
    expect(h.room.connectedCount).toBe(2);
    a.drop();
    expect(h.room.connectedCount).toBe(1);
    a.connect(false); // back, but never says HELLO
    expect(h.room.connectedCount).toBe(2);
    h.ticks(20, [b]); // past the HELLO timeout: closed
    expect(a.link.closed?.code).toBe(CLOSE_NO_HELLO);
    expect(h.room.connectedCount).toBe(1);
    h.ticks(25, [b]); // past the grace: Ada's seat is gone
    expect(h.room.playerCount).toBe(1);
    b.drop();
    expect(h.room.connectedCount).toBe(0);
    expect(h.room.emptySince).not.toBeNull();
  });

  it('a dropped seat is freed after the grace period even if its session keeps reconnecting without HELLO', () => {
    const h = new Harness({ resumeGraceS: 1, helloTimeoutS: 0.5 });
    const a = h.player('Ada');
    h.ticks(2, [a]);
    a.drop();
    for (let i = 0; i < 4; i++) {
      a.connect(false); // never says HELLO: closed after the HELLO timeout
      h.ticks(20);
    }
    expect(h.room.world.players).toHaveLength(0);
  });

  it('a client whose snapshot fails to apply still gets its events, and asks for a full snapshot', () => {
    const h = new Harness();
    const a = h.player('Ada');
    const b = h.player('Bob');
    h.ticks(2, [a, b]);
    a.send(a.net.ack());
    h.ticks(1, [b]);
    a.net.replica.reset(); // a's baseline is gone: the next delta cannot apply
    b.send(b.net.chat('still there?'));
    h.ticks(1, [a, b]);
    const bad = a.events.at(-1);
    expect(bad?.kind).toBe('bad');
    expect(bad?.kind === 'bad' && bad.events?.some((e) => e[0] === EV_CHAT && e[2] === 'still there?')).toBe(true);
    expect(a.net.ackTick).toBe(0);
    a.send(a.net.ack());
    h.ticks(1, [a, b]);
    const last = a.events.at(-1);
    expect(last?.kind === 'snapshot' && a.net.stats.snapshots).toBeGreaterThan(0);
  });

  it('judges a shot where the shooter saw its target (lag compensation by viewTick), within MAX_REWIND', () => {
    const setup = () => {
      const h = new Harness({ npcCount: 0 });
      const a = h.player('Ada');
      const b = h.player('Bob');
      h.ticks(2, [a, b]);
      const place = (id: number, x: number, y: number) => {
        h.room.world = { ...h.room.world, players: h.room.world.players.map((p) => (p.id === id ? { ...p, x, y } : p)) };
      };
      place(a.net.playerId, 200, 400);
      place(b.net.playerId, 500, 400); // in A's line of fire (aim 0 = +x) …
      h.ticks(1, [a, b]);
      const seenAt = h.room.tick;
      place(b.net.playerId, 500, 700); // … then out of it before A's shot arrives
      h.ticks(3, [a, b]);
      const hpOfB = () => h.room.world.players.find((p) => p.id === b.net.playerId)?.hp;
      const fire = (viewTick: number) => {
        a.send(a.net.input({ buttons: BTN_FIRE, aim: 0 }, viewTick, h.now).bytes);
        h.ticks(1, [a, b]);
      };
      return { h, seenAt, hpOfB, fire };
    };
    const hit = setup();
    hit.fire(hit.seenAt); // A was looking at the tick where B stood in the line
    expect(hit.hpOfB()).toBe(PLAYER_MAX_HP - SHOT_DAMAGE);
    const miss = setup();
    miss.fire(miss.h.room.tick); // judged at the present: B is gone
    expect(miss.hpOfB()).toBe(PLAYER_MAX_HP);
    const tooOld = setup();
    tooOld.h.ticks(tooOld.h.cfg.tickRate); // a second later, the tick A claims is beyond MAX_REWIND
    tooOld.fire(tooOld.seenAt);
    expect(tooOld.hpOfB()).toBe(PLAYER_MAX_HP);
  });
});
