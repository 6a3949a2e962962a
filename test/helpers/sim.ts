/**
 * Builders for hand-made simulation worlds. Worlds are plain objects, so a test
 * can put players exactly where a rule is decided instead of hoping a seed does.
 */
import {
  type Input,
  NPC_MAX_HP,
  NPC_TURN_CHANCE,
  type Npc,
  nextFloat,
  PHASE_PLAY,
  PLAYER_MAX_HP,
  type Player,
  POS_SCALE,
  ROUND_TIME,
  type StepOptions,
  step,
  type World,
} from '../../game/sim/index.ts';

export const DT30 = 1 / 30; // s, the server tick
export const DT60 = 1 / 60; // s

export function player(id: number, x: number, y: number, over: Partial<Player> = {}): Player {
  return {
    id,
    x,
    y,
    aim: 0,
    hp: PLAYER_MAX_HP,
    respawn: 0,
    shield: 0,
    cooldown: 0,
    score: 0,
    kills: 0,
    deaths: 0,
    ...over,
  };
}

export function npc(id: number, x: number, y: number, over: Partial<Npc> = {}): Npc {
  return { id, x, y, heading: 0, hp: NPC_MAX_HP, respawn: 0, ...over };
}

/** A world in play holding exactly these entities; `rng` defaults to a state whose drones do not turn for a while. */
export function world(players: Player[], npcs: Npc[] = [], over: Partial<World> = {}): World {
  const maxId = Math.max(0, ...players.map((p) => p.id), ...npcs.map((n) => n.id));
  return {
    tick: 0,
    rng: calmRng(npcs.length, 200),
    nextId: maxId + 1,
    players,
    npcs,
    shots: [],
    round: { number: 1, phase: PHASE_PLAY, time: ROUND_TIME, winner: 0 },
    events: [],
    ...over,
  };
}

/** First RNG state whose next `draws * steps` floats never trigger a drone turn, so headings stay as set. */
export function calmRng(draws: number, steps: number): number {
  for (let seed = 1; ; seed++) {
    const rng = { state: seed };
    let calm = true;
    for (let i = 0; i < draws * steps && calm; i++) calm = nextFloat(rng) >= NPC_TURN_CHANCE;
    if (calm) return seed;
  }
}

export const input = (buttons: number, aim = 0): Input => ({ buttons, aim });
export const inputs = (entries: Record<number, Input> = {}): Map<number, Input> =>
  new Map(Object.entries(entries).map(([id, i]) => [Number(id), i]));

/** Steps `n` times with the same inputs; returns every intermediate world (index 0 = after the first step). */
export function run(w: World, n: number, inp: Map<number, Input> = new Map(), dt = DT30, opts?: StepOptions): World[] {
  const out: World[] = [];
  for (let i = 0; i < n; i++) {
    w = step(w, inp, dt, opts);
    out.push(w);
  }
  return out;
}

export const last = <T>(xs: readonly T[]): T => xs[xs.length - 1] as T;
export const byId = <T extends { id: number }>(xs: readonly T[], id: number): T => {
  const found = xs.find((e) => e.id === id);
  if (!found) throw new Error(`no entity ${id}`);
  return found;
};

export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

export const onGrid = (v: number): boolean => Number.isInteger(v * POS_SCALE);
