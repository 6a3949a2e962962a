import { ARENA_H, ARENA_W } from './constants.ts';

/** An axis-aligned solid rectangle, in u. */
export interface Wall {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const T = 24; // u, border thickness

/**
 * The arena: a border plus symmetric cover, so no spawn side is favoured.
 * Static data shared by server and client; never sent on the wire.
 */
export const WALLS: readonly Wall[] = [
  { x: 0, y: 0, w: ARENA_W, h: T },
  { x: 0, y: ARENA_H - T, w: ARENA_W, h: T },
  { x: 0, y: 0, w: T, h: ARENA_H },
  { x: ARENA_W - T, y: 0, w: T, h: ARENA_H },
  // centre cross
  { x: 740, y: 520, w: 120, h: 160 },
  { x: 640, y: 580, w: 320, h: 40 },
  // four corner blocks
  { x: 280, y: 240, w: 200, h: 40 },
  { x: 1120, y: 240, w: 200, h: 40 },
  { x: 280, y: 920, w: 200, h: 40 },
  { x: 1120, y: 920, w: 200, h: 40 },
  // side pillars
  { x: 220, y: 520, w: 40, h: 160 },
  { x: 1340, y: 520, w: 40, h: 160 },
  { x: 760, y: 180, w: 80, h: 80 },
  { x: 760, y: 940, w: 80, h: 80 },
];

/**
 * The walls' edges as numbers, four per wall: left, top, right, bottom. The same
 * values as WALLS (whole units, so right = x + w exactly), for loops run per player
 * per step (`sweep`): no object per wall to load, no sum per test.
 */
export const WALL_EDGES: Float64Array = Float64Array.from(WALLS.flatMap((w) => [w.x, w.y, w.x + w.w, w.y + w.h]));

/** True when a square of half-size r centred at (x, y) overlaps any wall. */
export function boxHitsWall(x: number, y: number, r: number): boolean {
  for (const w of WALLS) {
    if (x + r > w.x && x - r < w.x + w.w && y + r > w.y && y - r < w.y + w.h) return true;
  }
  return false;
}
