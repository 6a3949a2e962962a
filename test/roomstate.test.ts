import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { BTN_FIRE, BTN_RIGHT } from '../game/sim/index.ts';
import { decodeSavedRooms, encodeSavedRooms, ROOM_STATE_VERSION, RoomStateError, type SavedRooms } from '../server/roomstate.ts';
import { Harness } from './helpers/room.ts';

/** A room that has been played in: two players, moves, shots, a score. */
function played(): SavedRooms {
  const h = new Harness();
  const a = h.player('Ada');
  const b = h.player('Bob');
  for (let i = 0; i < 40; i++) {
    a.send(a.net.input({ buttons: BTN_RIGHT | BTN_FIRE, aim: 0 }, 0, h.now).bytes);
    h.ticks(1, [a, b]);
  }
  return { savedAt: 1_765_000_000_000, tickRate: 30, rooms: [h.room.state()] };
}

/** `saved` encoded with `change` applied to its plain document first. */
type Doc = SavedRooms & { magic: string; version: number };
function tampered(saved: SavedRooms, change: (doc: Doc) => void): Uint8Array {
  const doc = decode(encodeSavedRooms(saved)) as Doc;
  change(doc);
  return encode(doc);
}

const refusal = (bytes: Uint8Array): string => {
  try {
    decodeSavedRooms(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(RoomStateError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('the saved form of rooms (server/roomstate.ts)', () => {
  it('round-trips a played room: world, seats with their last input seq, bans', () => {
    const saved = played();
    const room = saved.rooms[0];
    expect(room.seats.map((s) => s.name)).toEqual(['Ada', 'Bob']);
    expect(room.seats[0].lastSeq).toBe(40);
    const back = decodeSavedRooms(encodeSavedRooms(saved));
    expect(back.tickRate).toBe(30);
    expect(back.savedAt).toBe(saved.savedAt);
    expect(back.rooms[0].seats).toEqual(room.seats);
    expect(back.rooms[0].world).toEqual({ ...room.world, events: [] });
    expect(back.rooms[0].world.players).not.toBe(room.world.players); // fresh objects
  });

  it('refuses a truncated file, a foreign one and one from a newer version, each with its reason', () => {
    const bytes = encodeSavedRooms(played());
    expect(refusal(bytes.subarray(0, bytes.length - 7))).toMatch(/truncated or corrupt/);
    expect(refusal(encode({ hello: 'world' }))).toBe('not a tickwire room file');
    expect(refusal(tampered(played(), (d) => { d.version = ROOM_STATE_VERSION + 1; }))).toBe(
      `room file version ${ROOM_STATE_VERSION + 1} is newer than this server reads (${ROOM_STATE_VERSION})`,
    );
  });

  it('names the first bad field of a world or a seat', () => {
    const saved = played();
    expect(refusal(tampered(saved, (d) => { d.rooms[0].world.players[0].x = Number.NaN; }))).toMatch(/^rooms\[0\]\.world\.players\[0\]\.x: expected a number/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].world.players.reverse(); }))).toMatch(/ids not strictly increasing/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].world.nextId = 1; }))).toMatch(/is not below nextId 1/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].world.round.phase = 7; }))).toMatch(/round\.phase/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].seats[1].playerId = 999; }))).toMatch(/no player 999 in the world/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].seats.pop(); }))).toMatch(/has no seat/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].seats[1].sid = d.rooms[0].seats[0].sid; }))).toMatch(/a second seat/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].seats[0].lastSeq = -1; }))).toMatch(/lastSeq/);
    expect(refusal(tampered(saved, (d) => { d.rooms[0].code = 'abc'; }))).toMatch(/code: expected 5 capital letters/);
    expect(refusal(tampered(saved, (d) => { d.rooms.push(d.rooms[0]); }))).toMatch(/appears twice/);
  });

  it('a saved room restored into a fresh one gives each player back its seat: same id, position, score, last input seq, tick', () => {
    const saved = played();
    const state = decodeSavedRooms(encodeSavedRooms(saved)).rooms[0];
    const was = state.world.players.find((p) => p.id === state.seats[0].playerId);
    const h = new Harness();
    h.room.restore(state, h.now, 1000);
    expect(h.room.tick).toBe(state.world.tick);
    expect(h.room.playerCount).toBe(2);
    const ada = h.player('Ada'); // the same session id as in the saved room
    const welcome = ada.events.find((e) => e.kind === 'welcome');
    expect(welcome).toMatchObject({ resumed: true, playerId: state.seats[0].playerId });
    h.ticks(3, [ada]);
    const snap = ada.events.find((e) => e.kind === 'snapshot');
    expect(snap?.kind === 'snapshot' && snap.snap.lastSeq).toBe(40); // its inputs continue after the saved seq
    expect(ada.net.stats.desyncs).toBe(0);
    expect(ada.entity()).toMatchObject({ x: was?.x, y: was?.y });
    expect(h.room.world.players.find((p) => p.id === was?.id)?.score).toBe(was?.score);
    expect(h.room.tick).toBe(state.world.tick + 3);
    // Bob has not come back: his seat waits out what is left of the grace, then goes.
    h.ticks(Math.ceil(((h.cfg.resumeGraceS * 1000 - 1000) / h.period)) + 2, [ada]);
    expect(h.room.playerCount).toBe(1);
  });
});
