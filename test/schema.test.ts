/** Field quantization: rounding, clamping, angle wrap, and the table-derived widths. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPlayer, BTN_FIRE, BTN_RIGHT, createWorld, type Input, step } from '../game/sim/index.ts';
import { ARENA_SCHEMA, T_NPC, T_PLAYER, T_ROUND, T_SHOT, worldToFrame } from '../game/sim/netschema.ts';
import { FrameBuilder } from '../netcode/frame.ts';
import { defineSchema, type TypeSpec } from '../netcode/schema.ts';

const S = defineSchema([
  {
    name: 'thing',
    x: 'x',
    y: 'y',
    fields: [
      { name: 'x', kind: 'fixed', min: -50, max: 50, scale: 2.5, deltaBits: 4 },
      { name: 'y', kind: 'uint', bits: 5 },
      { name: 'a', kind: 'angle', bits: 8, steps: 65536 },
      { name: 'on', kind: 'bool' },
    ],
  },
  { name: 'tiny', fields: [{ name: 'n', kind: 'uint', bits: 3 }] },
]);

function q(obj: object, type = 0): number[] {
  const out = new Int32Array(S.stride).fill(99);
  S.quantize(type, obj, out, 0);
  return [...out];
}

describe('schema', () => {
  it('worldToFrame gives every entity the values its fields have by name', () => {
    let world = createWorld({ seed: 5, npcCount: 80 }); // over 64 entities: the builder grows mid-frame
    for (let i = 0; i < 4; i++) world = addPlayer(world).world;
    let shots = 0;
    for (let t = 0; t < 40; t++) {
      const inputs = new Map<number, Input>(world.players.map((p, i) => [p.id, { buttons: BTN_RIGHT | (t % 5 === i ? BTN_FIRE : 0), aim: 1000 * i }]));
      world = step(world, inputs, 1 / 20);
      shots += world.shots.length;
    }
    expect(shots).toBeGreaterThan(0);
    const seat = { lastSeq: 1234, anchor: { x: 10, y: 20 } };
    const frame = worldToFrame(new FrameBuilder(ARENA_SCHEMA), world, world.tick, () => seat);
    const r = world.round;
    const expected = new Map<number, [number, object]>([[0, [T_ROUND, { ...r, time: Math.ceil(r.time) }]]]);
    for (const p of world.players) {
      const own = { seq: seat.lastSeq - world.tick, ax: 10 - p.x, ay: 20 - p.y };
      expected.set(p.id, [T_PLAYER, { ...p, shield: p.shield > 0, ...own }]);
    }
    for (const n of world.npcs) expected.set(n.id, [T_NPC, n]);
    for (const s of world.shots) expected.set(s.id, [T_SHOT, s]);
    expect(frame.count).toBe(expected.size);
    const out = new Int32Array(ARENA_SCHEMA.stride);
    for (let i = 0; i < frame.count; i++) {
      const [type, obj] = expected.get(frame.ids[i]) ?? [-1, {}];
      expect(frame.types[i]).toBe(type);
      ARENA_SCHEMA.quantize(type, obj, out, 0);
      expect([...frame.values.subarray(i * ARENA_SCHEMA.stride, (i + 1) * ARENA_SCHEMA.stride)]).toEqual([...out]);
    }
  });

  it('quantizes the same from values by field position as from an object by name', () => {
    const value = fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constantFrom(0, -0, 0.5, -0.5, 1e9));
    fc.assert(fc.property(fc.integer({ min: 0, max: ARENA_SCHEMA.types.length - 1 }), fc.array(value, { minLength: 11, maxLength: 11 }), (type, vs) => {
      const t = ARENA_SCHEMA.types[type];
      const obj = Object.fromEntries(t.names.map((n, i) => [n, vs[i]]));
      const byName = new Int32Array(ARENA_SCHEMA.stride).fill(7);
      const byPos = new Int32Array(ARENA_SCHEMA.stride).fill(-7);
      ARENA_SCHEMA.quantize(type, obj, byName, 0);
      ARENA_SCHEMA.quantizeValues(type, t.names.map((n) => vs[ARENA_SCHEMA.fieldIndex(type, n)]), byPos, 0);
      expect([...byPos]).toEqual([...byName]);
    }), { numRuns: 500 });
    expect(() => ARENA_SCHEMA.fieldIndex(T_NPC, 'x1')).toThrow(/no field x1/);
  });

  it('derives widths, stride and type bits from the table', () => {
    const t = S.types[0];
    expect(t.maxQ[0]).toBe(250); // (50 - -50) * 2.5
    expect([...t.bits]).toEqual([8, 5, 8, 1]);
    expect(S.stride).toBe(4);
    expect(S.typeBits).toBe(1);
    const player = ARENA_SCHEMA.types[T_PLAYER];
    expect(player.maxQ[0]).toBe(12800);
    expect(player.bits[0]).toBe(14); // x: 1600 u * 8
    expect(player.bits[1]).toBe(14); // y: 1200 u * 8 = 9600 < 16384
    expect(ARENA_SCHEMA.stride).toBe(11); // player: 8 fields + 3 seat fields
    expect(ARENA_SCHEMA.typeBits).toBe(2);
  });

  it('fixed: rounds to the nearest step, clamps to [min, max], NaN counts as 0', () => {
    expect(q({ x: -50, y: 0, a: 0, on: false })[0]).toBe(0);
    expect(q({ x: 0, y: 0, a: 0, on: false })[0]).toBe(125);
    expect(q({ x: 0.19, y: 0, a: 0, on: false })[0]).toBe(125); // 0.475 steps -> 0
    expect(q({ x: 0.21, y: 0, a: 0, on: false })[0]).toBe(126); // 0.525 steps -> 1
    expect(q({ x: -1e9, y: 0, a: 0, on: false })[0]).toBe(0);
    expect(q({ x: 1e9, y: 0, a: 0, on: false })[0]).toBe(250);
    expect(q({ x: Number.NaN, y: 0, a: 0, on: false })[0]).toBe(125); // the value 0, as for a missing field
    expect(q({ y: 0, a: 0, on: false })[0]).toBe(125);
    expect(S.dequantize(0, [126, 0, 0, 0], 0).x).toBeCloseTo(0.4, 12);
  });

  it('uint: rounds, then clamps to [0, 2^bits - 1]', () => {
    expect(q({ x: 0, y: 2.4, a: 0, on: 0 })[1]).toBe(2);
    expect(q({ x: 0, y: 2.5, a: 0, on: 0 })[1]).toBe(3);
    expect(q({ x: 0, y: -3, a: 0, on: 0 })[1]).toBe(0);
    expect(q({ x: 0, y: 32, a: 0, on: 0 })[1]).toBe(31);
  });

  it('angle: reduces 16-bit angles to 8 bits and wraps at both ends', () => {
    const a = (v: number): number => q({ x: 0, y: 0, a: v, on: 0 })[2];
    expect(a(0)).toBe(0);
    expect(a(32768)).toBe(128);
    expect(a(65535)).toBe(0); // 255.996 rounds to 256 == 0
    expect(a(65536 + 256)).toBe(1);
    expect(a(-256)).toBe(255);
    expect(S.dequantize(0, [0, 0, 128, 0], 0).a).toBe(32768);
  });

  it('bool: truthiness, dequantized as 0/1; unused slots are zeroed', () => {
    expect(q({ x: 0, y: 0, a: 0, on: 0.5 })[3]).toBe(1);
    expect(q({ x: 0, y: 0, a: 0, on: 0 })[3]).toBe(0);
    expect(q({ n: 9 }, 1)).toEqual([7, 0, 0, 0]);
  });

  it('quantize(dequantize(q)) === q for every valid value of every arena field', () => {
    for (const t of ARENA_SCHEMA.types) {
      fc.assert(
        fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: t.fieldCount, maxLength: t.fieldCount }), (us) => {
          const vals = new Int32Array(ARENA_SCHEMA.stride);
          us.forEach((u, f) => {
            vals[f] = Math.floor(u * t.maxQ[f]);
          });
          const out = new Int32Array(ARENA_SCHEMA.stride);
          ARENA_SCHEMA.quantize(t.index, ARENA_SCHEMA.dequantize(t.index, vals, 0), out, 0);
          expect([...out]).toEqual([...vals]);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('arena positions on the 1/8 grid quantize exactly', () => {
    const out = new Int32Array(ARENA_SCHEMA.stride);
    ARENA_SCHEMA.quantize(T_NPC, { x: 123.375, y: 1199.875, hp: 40 }, out, 0);
    expect(ARENA_SCHEMA.dequantize(T_NPC, out, 0)).toEqual({ x: 123.375, y: 1199.875, hp: 40 });
    ARENA_SCHEMA.quantize(T_SHOT, { x1: 1, y1: 2, x2: 3, y2: 4, owner: 70000, hit: 0 }, out, 0);
    expect(ARENA_SCHEMA.dequantize(T_SHOT, out, 0)).toEqual({ x1: 1, y1: 2, x2: 3, y2: 4, owner: 70000, hit: 0 });
  });

  it('rejects bad tables at definition time', () => {
    expect(() =>
      defineSchema([
        {
          name: 't',
          fields: [
            { name: 'a', kind: 'bool' },
            { name: 'a', kind: 'bool' },
          ],
        },
      ]),
    ).toThrow(/duplicate/);
    expect(() => defineSchema([{ name: 't', x: 'b', y: 'b', fields: [{ name: 'b', kind: 'bool' }] }])).toThrow(/position/);
    expect(() => defineSchema([{ name: 't', fields: [{ name: 'u', kind: 'uint', bits: 40 }] }])).toThrow(/bits/);
    expect(() =>
      defineSchema([{ name: 't', fields: Array.from({ length: 25 }, (_, i) => ({ name: `f${i}`, kind: 'bool' as const })) }]),
    ).toThrow(/fields/);
  });

  it('compiles the seat fields, and refuses a seat that could not work', () => {
    expect(ARENA_SCHEMA.seat).toMatchObject({ type: T_PLAYER, seqMod: 65536 });
    const pos = [
      { name: 'x', kind: 'fixed', min: 0, max: 100, scale: 8, deltaBits: 8 },
      { name: 'y', kind: 'fixed', min: 0, max: 100, scale: 8, deltaBits: 8 },
      { name: 'ax', kind: 'fixed', min: -100, max: 100, scale: 8, deltaBits: 8 },
      { name: 'ay', kind: 'fixed', min: -100, max: 100, scale: 8, deltaBits: 8 },
    ] as const;
    const seat = { seq: 'seq', anchorX: 'ax', anchorY: 'ay' };
    // Built loosely on purpose (some are invalid); defineSchema checks them at run time.
    const type = (seq: object, extra: object = {}): TypeSpec =>
      ({ name: 'p', x: 'x', y: 'y', fields: [...pos, { name: 'seq', ...seq }], seat, ...extra }) as unknown as TypeSpec;
    expect(defineSchema([type({ kind: 'angle', bits: 12, steps: 4096 })]).seat?.seqMod).toBe(4096);
    expect(() => defineSchema([type({ kind: 'uint', bits: 16 })])).toThrow(/seat field seq must be an angle field/);
    expect(() => defineSchema([type({ kind: 'angle', bits: 16, steps: 360 })])).toThrow(/needs steps = 2\^bits/);
    expect(() => defineSchema([type({ kind: 'angle', bits: 8, steps: 256 }, { x: undefined, y: undefined })])).toThrow(/needs x and y/);
    const two = type({ kind: 'angle', bits: 8, steps: 256 });
    expect(() => defineSchema([two, { ...two, name: 'q' }])).toThrow(/only one type/);
  });
});
