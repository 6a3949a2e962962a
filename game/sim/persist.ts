/**
 * A World read back from outside (a saved room, a hand-over): every field checked
 * like a message off the wire, so a corrupt or foreign file is refused with the
 * path of the first bad field instead of breaking the simulation later.
 * `parseWorld` returns a fresh World (own objects, the sim's field order) or throws
 * WorldFormatError.
 */
import { ARENA_H, ARENA_W } from './constants.ts';
import {
  copyNpc, copyPlayer, copyRound, copyShot, type Npc, PHASE_INTERMISSION, PHASE_PLAY, type Player, type Round, type Shot, type World,
} from './state.ts';

export class WorldFormatError extends Error {}

type Obj = Record<string, unknown>;

const MAX_ENTITIES = 4096;
const MAX_ID = 2 ** 31;
const MAX_S = 1e6; // seconds: any timer of the game is far below

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WorldFormatError(`${path}: expected an object`);
  return v as Obj;
}

function num(o: Obj, key: string, path: string, min: number, max: number, int = false): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    throw new WorldFormatError(`${path}.${key}: expected ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function list<T>(o: Obj, key: string, path: string, item: (v: unknown, path: string) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new WorldFormatError(`${path}.${key}: expected an array`);
  if (v.length > MAX_ENTITIES) throw new WorldFormatError(`${path}.${key}: ${v.length} entries (at most ${MAX_ENTITIES})`);
  return v.map((x, i) => item(x, `${path}.${key}[${i}]`));
}

/** Entity arrays are sorted by id, ids unique (the sim relies on it). */
function sortedIds(items: { id: number }[], path: string): void {
  for (let i = 1; i < items.length; i++) {
    if (items[i].id <= items[i - 1].id) throw new WorldFormatError(`${path}: ids not strictly increasing at [${i}]`);
  }
}

const pos = (o: Obj, path: string) => ({
  x: num(o, 'x', path, 0, ARENA_W),
  y: num(o, 'y', path, 0, ARENA_H),
});

function player(v: unknown, path: string): Player {
  const o = obj(v, path);
  const { x, y } = pos(o, path);
  return copyPlayer({
    id: num(o, 'id', path, 1, MAX_ID, true), x, y, aim: num(o, 'aim', path, 0, 65535, true),
    hp: num(o, 'hp', path, 0, 1e4), respawn: num(o, 'respawn', path, 0, MAX_S), shield: num(o, 'shield', path, 0, MAX_S),
    cooldown: num(o, 'cooldown', path, 0, MAX_S), score: num(o, 'score', path, -1e9, 1e9, true),
    kills: num(o, 'kills', path, 0, 1e9, true), deaths: num(o, 'deaths', path, 0, 1e9, true),
  });
}

function npc(v: unknown, path: string): Npc {
  const o = obj(v, path);
  const { x, y } = pos(o, path);
  return copyNpc({
    id: num(o, 'id', path, 1, MAX_ID, true), x, y, heading: num(o, 'heading', path, 0, 65535, true),
    hp: num(o, 'hp', path, 0, 1e4), respawn: num(o, 'respawn', path, 0, MAX_S),
  });
}

function shot(v: unknown, path: string): Shot {
  const o = obj(v, path);
  const s: Shot = {
    id: num(o, 'id', path, 1, MAX_ID, true), owner: num(o, 'owner', path, 0, MAX_ID, true),
    x1: num(o, 'x1', path, -1e5, 1e5), y1: num(o, 'y1', path, -1e5, 1e5), x2: num(o, 'x2', path, -1e5, 1e5), y2: num(o, 'y2', path, -1e5, 1e5),
    hit: num(o, 'hit', path, 0, MAX_ID, true), ttl: 0,
  };
  return copyShot(s, num(o, 'ttl', path, 0, MAX_S));
}

function round(v: unknown, path: string): Round {
  const o = obj(v, path);
  const phase = num(o, 'phase', path, 0, 1, true);
  if (phase !== PHASE_PLAY && phase !== PHASE_INTERMISSION) throw new WorldFormatError(`${path}.phase: unknown phase ${phase}`);
  return copyRound({
    number: num(o, 'number', path, 1, 1e9, true), phase, time: num(o, 'time', path, 0, MAX_S), winner: num(o, 'winner', path, 0, MAX_ID, true),
  });
}

/** The World in `v`, checked field by field (`path` names it in errors). Its `events` start empty. */
export function parseWorld(v: unknown, path = 'world'): World {
  const o = obj(v, path);
  const players = list(o, 'players', path, player);
  const npcs = list(o, 'npcs', path, npc);
  const shots = list(o, 'shots', path, shot);
  sortedIds(players, `${path}.players`);
  sortedIds(npcs, `${path}.npcs`);
  sortedIds(shots, `${path}.shots`);
  const nextId = num(o, 'nextId', path, 1, MAX_ID, true);
  for (const e of [...players, ...npcs, ...shots]) {
    if (e.id >= nextId) throw new WorldFormatError(`${path}: entity id ${e.id} is not below nextId ${nextId}`);
  }
  return {
    tick: num(o, 'tick', path, 0, Number.MAX_SAFE_INTEGER, true),
    rng: num(o, 'rng', path, 0, 2 ** 32 - 1, true),
    nextId,
    players,
    npcs,
    shots,
    round: round(o.round, `${path}.round`),
    events: [],
  };
}
