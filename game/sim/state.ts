import { ARENA_H, ARENA_W, NPC_MAX_HP, PLAYER_MAX_HP, POS_SCALE, PLAYER_RADIUS, NPC_RADIUS, ROUND_TIME } from './constants.ts';
import { boxHitsWall } from './map.ts';
import { nextFloat, nextRange, type Rng } from './rng.ts';

/** What a player asks for in one step: a button bitmask and a 16-bit aim angle. */
export interface Input {
  buttons: number;
  aim: number;
}

export const NO_INPUT: Input = Object.freeze({ buttons: 0, aim: 0 });

export interface Player {
  id: number;
  x: number; // u, on the 1/8 grid
  y: number;
  aim: number; // 16-bit binary angle
  hp: number;
  respawn: number; // s until respawn; 0 while alive
  shield: number; // s of spawn protection left
  cooldown: number; // s until the next shot may fire
  score: number;
  kills: number;
  deaths: number;
}

export interface Npc {
  id: number;
  x: number;
  y: number;
  heading: number; // 16-bit binary angle
  hp: number;
  respawn: number; // s until it comes back; 0 while active
}

/** A hitscan tracer, kept for SHOT_TTL so every client sees it. */
export interface Shot {
  id: number;
  owner: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  hit: number; // entity id hit, 0 for none
  ttl: number; // s
}

export const PHASE_PLAY = 0;
export const PHASE_INTERMISSION = 1;

export interface Round {
  number: number;
  phase: number; // PHASE_*
  time: number; // s left in this phase
  winner: number; // player id of the last round's winner, 0 before any
}

export type GameEvent =
  | { kind: 'kill'; killer: number; victim: number }
  | { kind: 'npc_down'; killer: number; npc: number }
  | { kind: 'round_end'; winner: number; round: number }
  | { kind: 'round_start'; round: number };

/**
 * The whole game state. Entity arrays are sorted by id. `rng` holds the seeded
 * generator's state so that `step` is a pure function of (world, inputs, dt).
 */
export interface World {
  tick: number;
  rng: number;
  nextId: number;
  players: Player[];
  npcs: Npc[];
  shots: Shot[];
  round: Round;
  /** What happened during the step that produced this world. */
  events: GameEvent[];
}

export interface WorldOptions {
  seed: number;
  npcCount: number;
}

/*
 * Copies list every field in one order, so all players (drones, shots, worlds)
 * share one hidden class. Spread copies did not: the sim's property accesses went
 * megamorphic and the server's room tick paid a generic lookup per field.
 * A field added to an interface must be added here (the compiler insists).
 */
export const copyPlayer = (p: Player): Player => ({
  id: p.id, x: p.x, y: p.y, aim: p.aim, hp: p.hp, respawn: p.respawn, shield: p.shield, cooldown: p.cooldown,
  score: p.score, kills: p.kills, deaths: p.deaths,
});

export const copyNpc = (n: Npc): Npc => ({ id: n.id, x: n.x, y: n.y, heading: n.heading, hp: n.hp, respawn: n.respawn });

export const copyShot = (s: Shot, ttl: number): Shot => ({
  id: s.id, owner: s.owner, x1: s.x1, y1: s.y1, x2: s.x2, y2: s.y2, hit: s.hit, ttl,
});

export const copyRound = (r: Round): Round => ({ number: r.number, phase: r.phase, time: r.time, winner: r.winner });

/** `world` with some fields replaced. */
export function worldWith(w: World, c: Partial<World>): World {
  return {
    tick: c.tick ?? w.tick, rng: c.rng ?? w.rng, nextId: c.nextId ?? w.nextId, players: c.players ?? w.players,
    npcs: c.npcs ?? w.npcs, shots: c.shots ?? w.shots, round: c.round ?? w.round, events: c.events ?? w.events,
  };
}

export const snap = (v: number): number => Math.round(v * POS_SCALE) / POS_SCALE;

/** A random free spot for a box of half-size r, on the position grid. */
export function randomSpot(rng: Rng, r: number): { x: number; y: number } {
  for (let i = 0; i < 32; i++) {
    const x = snap(nextRange(rng, r + 30, ARENA_W - r - 30));
    const y = snap(nextRange(rng, r + 30, ARENA_H - r - 30));
    if (!boxHitsWall(x, y, r + 4)) return { x, y };
  }
  return { x: 120, y: 120 }; // known free corner
}

export function createWorld(opts: WorldOptions): World {
  const rng: Rng = { state: opts.seed >>> 0 };
  const npcs: Npc[] = [];
  let nextId = 1;
  for (let i = 0; i < opts.npcCount; i++) {
    const { x, y } = randomSpot(rng, NPC_RADIUS);
    npcs.push({ id: nextId++, x, y, heading: Math.floor(nextFloat(rng) * 65536), hp: NPC_MAX_HP, respawn: 0 });
  }
  return {
    tick: 0,
    rng: rng.state,
    nextId,
    players: [],
    npcs,
    shots: [],
    round: { number: 1, phase: PHASE_PLAY, time: ROUND_TIME, winner: 0 },
    events: [],
  };
}

/** Adds a player at a random free spot. Returns the new world and the player's id. */
export function addPlayer(world: World): { world: World; id: number } {
  const rng: Rng = { state: world.rng };
  const { x, y } = randomSpot(rng, PLAYER_RADIUS);
  const id = world.nextId;
  const player: Player = {
    id, x, y, aim: 0, hp: PLAYER_MAX_HP, respawn: 0, shield: 0, cooldown: 0, score: 0, kills: 0, deaths: 0,
  };
  return { world: worldWith(world, { rng: rng.state, nextId: id + 1, players: [...world.players, player] }), id };
}

/** `world` with player `id` put at (x, y) (the authority placing a player where its late inputs took it). */
export function placePlayer(world: World, id: number, x: number, y: number): World {
  const players = world.players.map((p) => {
    if (p.id !== id) return p;
    const moved = copyPlayer(p);
    moved.x = x;
    moved.y = y;
    return moved;
  });
  return worldWith(world, { players });
}

export function removePlayer(world: World, id: number): World {
  return worldWith(world, { players: world.players.filter((p) => p.id !== id) });
}

export function findPlayer(world: World, id: number): Player | undefined {
  for (const p of world.players) if (p.id === id) return p;
  return undefined;
}
