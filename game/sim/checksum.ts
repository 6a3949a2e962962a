/**
 * The whole simulation state's fingerprint, and where two states differ: what a
 * replay records after every step and `replay:verify` checks. Unlike the netcode's
 * frameChecksum (the quantized entities a client holds) this covers every number
 * the next step reads, timers and the RNG included, bit for bit: two worlds with
 * equal checksums step alike.
 */
import type { World } from './state.ts';

const FNV_PRIME = 0x01000193;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Hashes one number: a small integer as itself, anything else by its float64 bits (so 0.1 + 0.2 and 0.3 differ, as they would in the next step). */
function mix(h: number, v: number): number {
  if ((v | 0) === v) return Math.imul(h ^ v, FNV_PRIME) ^ 0x5bd1e995; // tagged: an integer never hashes like a float's bits
  f64[0] = v;
  h = Math.imul(h ^ u32[0], FNV_PRIME);
  return Math.imul(h ^ u32[1], FNV_PRIME);
}

/** Each entity kind's fields in the order they are hashed and compared; a field added to the sim must be added here. */
export const CHECKED_FIELDS = {
  players: ['id', 'x', 'y', 'aim', 'hp', 'respawn', 'shield', 'cooldown', 'score', 'kills', 'deaths'],
  npcs: ['id', 'x', 'y', 'heading', 'hp', 'respawn'],
  shots: ['id', 'owner', 'x1', 'y1', 'x2', 'y2', 'hit', 'ttl'],
} as const;
const ROUND_FIELDS = ['number', 'phase', 'time', 'winner'] as const;
const TOP_FIELDS = ['tick', 'rng', 'nextId'] as const;

type Kind = keyof typeof CHECKED_FIELDS;
const KINDS = Object.keys(CHECKED_FIELDS) as Kind[];
const rows = (w: World, k: Kind) => w[k] as unknown as readonly Record<string, number>[];

/**
 * A uint32 over every number of `w` but its events (which are derived from the step, not
 * read by the next). Written out field by field, not through CHECKED_FIELDS: a lookup by
 * a variable key is megamorphic here and tripled the cost (it runs after every step of
 * a recorded room). worldDiff, which walks CHECKED_FIELDS, is the check on this order.
 */
export function worldChecksum(w: World): number {
  let h = 0x811c9dc5;
  h = mix(mix(mix(h, w.tick), w.rng), w.nextId);
  const r = w.round;
  h = mix(mix(mix(mix(h, r.number), r.phase), r.time), r.winner);
  h = mix(h, w.players.length);
  for (const p of w.players) {
    h = mix(mix(mix(mix(mix(mix(h, p.id), p.x), p.y), p.aim), p.hp), p.respawn);
    h = mix(mix(mix(mix(mix(h, p.shield), p.cooldown), p.score), p.kills), p.deaths);
  }
  h = mix(h, w.npcs.length);
  for (const n of w.npcs) h = mix(mix(mix(mix(mix(mix(h, n.id), n.x), n.y), n.heading), n.hp), n.respawn);
  h = mix(h, w.shots.length);
  for (const s of w.shots) h = mix(mix(mix(mix(mix(mix(mix(mix(h, s.id), s.owner), s.x1), s.y1), s.x2), s.y2), s.hit), s.ttl);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The first difference between `want` (recorded) and `got` (re-simulated), in words:
 * "player 3 x: recorded 412.5, re-simulated 414", or null when they are the same.
 */
export function worldDiff(want: World, got: World): string | null {
  const num = (what: string, a: number, b: number) => (Object.is(a, b) ? null : `${what}: recorded ${a}, re-simulated ${b}`);
  for (const f of TOP_FIELDS) {
    const d = num(`world ${f}`, want[f], got[f]);
    if (d) return d;
  }
  for (const f of ROUND_FIELDS) {
    const d = num(`round ${f}`, want.round[f], got.round[f]);
    if (d) return d;
  }
  for (const k of KINDS) {
    const a = rows(want, k);
    const b = rows(got, k);
    const byId = new Map(b.map((e) => [e.id, e]));
    const name = k.slice(0, -1);
    for (const e of a) {
      const o = byId.get(e.id);
      if (!o) return `${name} ${e.id}: recorded, missing when re-simulated`;
      for (const f of CHECKED_FIELDS[k]) {
        const d = num(`${name} ${e.id} ${f}`, e[f], o[f]);
        if (d) return d;
      }
    }
    if (b.length > a.length) {
      const ids = new Set(a.map((e) => e.id));
      const extra = b.find((e) => !ids.has(e.id));
      return `${name} ${extra?.id}: re-simulated, not recorded`;
    }
  }
  return null;
}
