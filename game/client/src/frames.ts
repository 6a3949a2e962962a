/**
 * Readers of the arena's quantized frames: one function per drawn field, built
 * from the entity table (game/sim/netschema.ts) with the same formulas as
 * Schema.dequantize, so the view reads typed arrays without making objects.
 */
import { ARENA_SCHEMA, T_NPC, T_PLAYER, T_ROUND, T_SHOT } from '../../sim/netschema.ts';
import { type CompiledType, KIND_ANGLE, KIND_FIXED } from '../../../netcode/schema.ts';

type Field = (values: Int32Array, row: number) => number;

const STRIDE = ARENA_SCHEMA.stride;

function field(type: number, name: string): Field {
  const t: CompiledType = ARENA_SCHEMA.types[type];
  const i = t.names.indexOf(name);
  if (i < 0) throw new Error(`frames: no field ${t.name}.${name}`);
  const k = t.kind[i];
  const scale = t.scale[i];
  const min = t.min[i];
  if (k === KIND_FIXED) return (v, row) => v[row * STRIDE + i] / scale + min;
  if (k === KIND_ANGLE) return (v, row) => v[row * STRIDE + i] / scale;
  return (v, row) => v[row * STRIDE + i];
}

export const P = {
  x: field(T_PLAYER, 'x'), y: field(T_PLAYER, 'y'), aim: field(T_PLAYER, 'aim'), hp: field(T_PLAYER, 'hp'),
  shield: field(T_PLAYER, 'shield'), score: field(T_PLAYER, 'score'), kills: field(T_PLAYER, 'kills'), deaths: field(T_PLAYER, 'deaths'),
};
export const N = { x: field(T_NPC, 'x'), y: field(T_NPC, 'y'), hp: field(T_NPC, 'hp') };
export const S = {
  x1: field(T_SHOT, 'x1'), y1: field(T_SHOT, 'y1'), x2: field(T_SHOT, 'x2'), y2: field(T_SHOT, 'y2'),
  owner: field(T_SHOT, 'owner'), hit: field(T_SHOT, 'hit'),
};
export const R = { number: field(T_ROUND, 'number'), phase: field(T_ROUND, 'phase'), time: field(T_ROUND, 'time'), winner: field(T_ROUND, 'winner') };
