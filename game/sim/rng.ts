/**
 * Seeded PRNG (mulberry32). The state is a uint32 kept inside the world, so the
 * simulation stays a pure function of its arguments: same seed, same game.
 */
export interface Rng {
  state: number;
}

/** Returns a float in [0, 1) and advances `rng.state`. */
export function nextFloat(rng: Rng): number {
  rng.state = (rng.state + 0x6d2b79f5) >>> 0;
  let t = rng.state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Float in [lo, hi). */
export function nextRange(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * nextFloat(rng);
}
