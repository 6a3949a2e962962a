/**
 * The arena's entity table for the snapshot codec: what each entity type sends,
 * at what precision. netcode/ quantizes, deltas, validates and filters by view
 * from this table alone, so adding a field here is the whole change.
 *
 * Positions are exact: the sim keeps them on the 1/POS_SCALE grid, so
 * quantizing at scale POS_SCALE loses nothing and a client's prediction lands on
 * the very numbers the server sends. deltaBits fit one step of movement
 * against the usual one-tick-old baseline: a player at 220 u/s moves <= 59 grid
 * steps per tick at 30 Hz, 88 at 20 Hz (8 signed bits: +-128); a drone at 70 u/s
 * <= 28 (6 bits: +-32). Larger jumps (catch-up steps, older baselines,
 * respawns) fall back to the full value: a few more bits, never wrong. Shots
 * never move (a tracer only appears and disappears), so their 4 bits are a
 * cheap fallback.
 */
import { defineSchema, type FieldSpec } from '../../netcode/schema.ts';
import type { FrameBuilder, Frame } from '../../netcode/frame.ts';
import { ARENA_H, ARENA_W, POS_SCALE } from './constants.ts';
import type { World } from './state.ts';

const posX = (name: string, deltaBits: number): FieldSpec => ({ name, kind: 'fixed', min: 0, max: ARENA_W, scale: POS_SCALE, deltaBits });
const posY = (name: string, deltaBits: number): FieldSpec => ({ name, kind: 'fixed', min: 0, max: ARENA_H, scale: POS_SCALE, deltaBits });

export const ARENA_SCHEMA = defineSchema([
  {
    name: 'round',
    fields: [
      { name: 'number', kind: 'uint', bits: 16 },
      { name: 'phase', kind: 'uint', bits: 1 },
      { name: 'time', kind: 'uint', bits: 9 }, // whole seconds left, rounded up (ROUND_TIME 180 < 512)
      { name: 'winner', kind: 'uint', bits: 31 }, // player id (ids come from one counter shared with shots: 31 bits last ~300 days of busy play)
    ],
  },
  {
    name: 'player',
    x: 'x',
    y: 'y',
    fields: [
      posX('x', 8),
      posY('y', 8),
      { name: 'aim', kind: 'angle', bits: 8, steps: 65536 }, // 1.4° steps: enough to draw other players
      { name: 'hp', kind: 'uint', bits: 7 },
      { name: 'shield', kind: 'bool' }, // spawn protection active (sim: seconds left > 0)
      { name: 'score', kind: 'uint', bits: 10 },
      { name: 'kills', kind: 'uint', bits: 8 },
      { name: 'deaths', kind: 'uint', bits: 8 },
      // The seat fields (netcode/schema.ts SeatSpec): last input seq applied as (seq - tick) mod 2^16,
      // and the offset of the position as of that seq (anchor). The anchor and the player are both
      // inside the arena, so the offset's range is the arena's: it never clamps.
      { name: 'seq', kind: 'angle', bits: 16, steps: 65536, deltaBits: 4 },
      { name: 'ax', kind: 'fixed', min: -ARENA_W, max: ARENA_W, scale: POS_SCALE, deltaBits: 8 },
      { name: 'ay', kind: 'fixed', min: -ARENA_H, max: ARENA_H, scale: POS_SCALE, deltaBits: 8 },
    ],
    seat: { seq: 'seq', anchorX: 'ax', anchorY: 'ay' },
  },
  {
    name: 'npc',
    x: 'x',
    y: 'y',
    fields: [posX('x', 6), posY('y', 6), { name: 'hp', kind: 'uint', bits: 6 }],
  },
  {
    name: 'shot',
    x: 'x1',
    y: 'y1',
    fields: [
      posX('x1', 4),
      posY('y1', 4),
      posX('x2', 4),
      posY('y2', 4),
      { name: 'owner', kind: 'uint', bits: 31 },
      { name: 'hit', kind: 'uint', bits: 31 }, // entity id hit, 0 for none
    ],
  },
]);

export const T_ROUND = ARENA_SCHEMA.typeIndex('round');
export const T_PLAYER = ARENA_SCHEMA.typeIndex('player');
export const T_NPC = ARENA_SCHEMA.typeIndex('npc');
export const T_SHOT = ARENA_SCHEMA.typeIndex('shot');

/** The round singleton's id; the sim's ids start at 1. */
export const ROUND_ID = 0;

const roundScratch = { number: 0, phase: 0, time: 0, winner: 0 };

/** What the server did with one player's inputs, for the seat fields. */
export interface SeatState {
  /** Last input seq applied. */
  lastSeq: number;
  /** Position as of lastSeq while the server is moving the player on guesses, else null. */
  anchor: { x: number; y: number } | null;
}

const playerScratch = { x: 0, y: 0, aim: 0, hp: 0, shield: 0, score: 0, kills: 0, deaths: 0, seq: 0, ax: 0, ay: 0 };

/**
 * The quantized frame of `world` at `tick`: round (id 0), players, drones, shots.
 * `seats` gives each player's seat state (the server's input queues); without it
 * the seat fields are 0.
 */
export function worldToFrame(
  builder: FrameBuilder, world: World, tick: number, seats?: (playerId: number) => SeatState | undefined,
): Frame {
  builder.begin(tick);
  const r = world.round;
  roundScratch.number = r.number;
  roundScratch.phase = r.phase;
  roundScratch.time = Math.ceil(r.time);
  roundScratch.winner = r.winner;
  builder.add(T_ROUND, ROUND_ID, roundScratch);
  const q = playerScratch;
  for (const p of world.players) {
    const s = seats?.(p.id);
    q.x = p.x;
    q.y = p.y;
    q.aim = p.aim;
    q.hp = p.hp;
    q.shield = p.shield > 0 ? 1 : 0;
    q.score = p.score;
    q.kills = p.kills;
    q.deaths = p.deaths;
    q.seq = s ? s.lastSeq - tick : 0;
    q.ax = s?.anchor ? s.anchor.x - p.x : 0;
    q.ay = s?.anchor ? s.anchor.y - p.y : 0;
    builder.add(T_PLAYER, p.id, q);
  }
  for (const n of world.npcs) builder.add(T_NPC, n.id, n);
  for (const s of world.shots) builder.add(T_SHOT, s.id, s);
  return builder.end();
}
