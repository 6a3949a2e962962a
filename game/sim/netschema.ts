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
import type { Frame, FrameAlloc, FrameBuilder } from '../../netcode/frame.ts';
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


/** What the server did with one player's inputs, for the seat fields. */
export interface SeatState {
  /** Last input seq applied. */
  lastSeq: number;
  /** Position as of lastSeq while the server is moving the player on guesses, else null. */
  anchor: { x: number; y: number } | null;
}

/*
 * Each entity's values go to the frame builder by field position, from one reused
 * array per type: quantizing by field name would read every field through V8's
 * megamorphic lookup (one property name per field), ~0.6 % of a busy server's CPU.
 */
const P = fieldsOf(T_PLAYER, ['x', 'y', 'aim', 'hp', 'shield', 'score', 'kills', 'deaths', 'seq', 'ax', 'ay']);
const N = fieldsOf(T_NPC, ['x', 'y', 'hp']);
const S = fieldsOf(T_SHOT, ['x1', 'y1', 'x2', 'y2', 'owner', 'hit']);
const R = fieldsOf(T_ROUND, ['number', 'phase', 'time', 'winner']);
const playerValues = new Float64Array(P.count);
const npcValues = new Float64Array(N.count);
const shotValues = new Float64Array(S.count);
const roundValues = new Float64Array(R.count);

/** Field positions by name, checked against the schema: every field of the type, each once. */
function fieldsOf<K extends string>(type: number, names: readonly K[]): Record<K, number> & { count: number } {
  const t = ARENA_SCHEMA.types[type];
  if (names.length !== t.fieldCount || new Set(names).size !== names.length) throw new Error(`netschema: ${t.name} fields do not match`);
  const out = { count: t.fieldCount } as Record<K, number> & { count: number };
  for (const n of names) (out as Record<string, number>)[n] = ARENA_SCHEMA.fieldIndex(type, n);
  return out;
}

/**
 * The quantized frame of `world` at `tick`: round (id 0), players, drones, shots.
 * `seats` gives each player's seat state (the server's input queues); without it
 * the seat fields are 0. `alloc` makes the frame (default: from a slab).
 */
export function worldToFrame(
  builder: FrameBuilder, world: World, tick: number, seats?: (playerId: number) => SeatState | undefined, alloc?: FrameAlloc,
): Frame {
  builder.begin(tick);
  const r = world.round;
  const rv = roundValues;
  rv[R.number] = r.number;
  rv[R.phase] = r.phase;
  rv[R.time] = Math.ceil(r.time);
  rv[R.winner] = r.winner;
  builder.addValues(T_ROUND, ROUND_ID, rv);
  const q = playerValues;
  for (const p of world.players) {
    const s = seats?.(p.id);
    q[P.x] = p.x;
    q[P.y] = p.y;
    q[P.aim] = p.aim;
    q[P.hp] = p.hp;
    q[P.shield] = p.shield > 0 ? 1 : 0;
    q[P.score] = p.score;
    q[P.kills] = p.kills;
    q[P.deaths] = p.deaths;
    q[P.seq] = s ? s.lastSeq - tick : 0;
    q[P.ax] = s?.anchor ? s.anchor.x - p.x : 0;
    q[P.ay] = s?.anchor ? s.anchor.y - p.y : 0;
    builder.addValues(T_PLAYER, p.id, q);
  }
  const nv = npcValues;
  for (const n of world.npcs) {
    nv[N.x] = n.x;
    nv[N.y] = n.y;
    nv[N.hp] = n.hp;
    builder.addValues(T_NPC, n.id, nv);
  }
  const sv = shotValues;
  for (const s of world.shots) {
    sv[S.x1] = s.x1;
    sv[S.y1] = s.y1;
    sv[S.x2] = s.x2;
    sv[S.y2] = s.y2;
    sv[S.owner] = s.owner;
    sv[S.hit] = s.hit;
    builder.addValues(T_SHOT, s.id, sv);
  }
  return builder.end(alloc);
}
