/**
 * Delta codec: exact bit costs, strict rejection of malformed bodies, and the
 * chain property: whatever snapshots are lost, skipped, late or un-acked, every
 * body a client manages to apply reproduces exactly the server's frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPlayer, createWorld } from '../game/sim/index.ts';
import { ARENA_SCHEMA, T_NPC, worldToFrame } from '../game/sim/netschema.ts';
import { BitWriter } from '../netcode/bits.ts';
import { frameChecksum } from '../netcode/checksum.ts';
import { encodeDelta } from '../netcode/delta.ts';
import { decodeDelta, isDeltaError } from '../netcode/deltadecode.ts';
import { checkFrame, type Frame, FrameBuilder, framesEqual } from '../netcode/frame.ts';
import { SnapshotHistory } from '../netcode/history.ts';
import { Replica } from '../netcode/replica.ts';
import { defineSchema, KIND_ANGLE, KIND_BOOL, type Schema } from '../netcode/schema.ts';

/** Every field kind, odd ranges, a 31-bit uint, and 3 types (so type index 3 is invalid). */
const TS = defineSchema([
  {
    name: 'mover',
    x: 'x',
    y: 'y',
    fields: [
      { name: 'x', kind: 'fixed', min: -100, max: 100, scale: 4, deltaBits: 4 },
      { name: 'y', kind: 'fixed', min: 0, max: 50, scale: 1, deltaBits: 3 },
      { name: 'a', kind: 'angle', bits: 6, steps: 360, deltaBits: 3 },
      { name: 'n', kind: 'uint', bits: 5, deltaBits: 2 },
      { name: 'b', kind: 'bool' },
    ],
  },
  {
    name: 'static',
    fields: [
      { name: 'big', kind: 'uint', bits: 31 },
      { name: 'f', kind: 'bool' },
    ],
  },
  {
    name: 'spin',
    fields: [
      { name: 'a', kind: 'angle', bits: 12, steps: 1 },
      { name: 'w', kind: 'fixed', min: 0, max: 1, scale: 1000, deltaBits: 24 },
    ],
  },
]);

type Model = Map<number, { type: number; vals: number[] }>;

function toFrame(schema: Schema, model: Model, tick: number): Frame {
  const entries = [...model.entries()].sort((a, b) => a[0] - b[0]);
  const values = new Int32Array(entries.length * schema.stride);
  for (const [i, [, e]] of entries.entries()) values.set(e.vals, i * schema.stride);
  const ids = Uint32Array.from(entries, ([id]) => id);
  return { tick, count: entries.length, ids, types: Uint8Array.from(entries, ([, e]) => e.type), values };
}

const unit = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const idArb = fc.oneof(fc.nat(300), fc.integer({ min: 0xffffff00, max: 0xffffffff }));
const opArb = fc.oneof(
  fc.record({
    op: fc.constant('nudge' as const),
    pick: fc.nat(),
    field: fc.nat(),
    d: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -40, max: 40 })),
  }),
  fc.record({ op: fc.constant('set' as const), pick: fc.nat(), field: fc.nat(), u: unit }),
  fc.record({ op: fc.constant('create' as const), id: idArb, type: fc.nat(), us: fc.array(unit, { minLength: 8, maxLength: 8 }) }),
  fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('moveAll' as const), d: fc.integer({ min: -6, max: 6 }) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function applyOp(schema: Schema, model: Model, op: Op): void {
  const ids = [...model.keys()];
  const nudge = (e: { type: number; vals: number[] }, f: number, d: number): void => {
    const t = schema.types[e.type];
    const k = t.kind[f];
    const v = e.vals[f];
    e.vals[f] = k === KIND_BOOL ? v ^ 1 : k === KIND_ANGLE ? (v + d) & t.maxQ[f] : Math.min(t.maxQ[f], Math.max(0, v + d));
  };
  if (op.op === 'create') {
    const type = op.type % schema.types.length;
    const t = schema.types[type];
    model.set(op.id, { type, vals: Array.from({ length: t.fieldCount }, (_, f) => Math.floor(op.us[f] * (t.maxQ[f] + 1))) });
  } else if (op.op === 'moveAll') {
    for (const e of model.values()) if (schema.types[e.type].xField >= 0) nudge(e, schema.types[e.type].xField, op.d);
  } else if (ids.length > 0) {
    const id = ids[op.pick % ids.length];
    const e = model.get(id);
    if (!e) throw new Error('unreachable: id from the model');
    if (op.op === 'remove') model.delete(id);
    else {
      const t = schema.types[e.type];
      const f = op.field % t.fieldCount;
      if (op.op === 'nudge') nudge(e, f, op.d);
      else e.vals[f] = Math.floor(op.u * (t.maxQ[f] + 1));
    }
  }
}

const tickArb = fc.record({
  ops: fc.array(opArb, { maxLength: 8 }),
  send: fc.constantFrom('now', 'now', 'now', 'lost', 'skip', 'late'),
  lateBy: fc.nat(16),
  ackLost: fc.boolean(),
});

const HIST = 12; // small rings, so baselines regularly fall out and force full snapshots

/** Plays a server and one client over a lossy link; returns every body sent (for the fuzz tests). */
function runChain(schema: Schema, init: Op[], ticks: (typeof tickArb extends fc.Arbitrary<infer T> ? T : never)[]): Uint8Array[] {
  const model: Model = new Map();
  for (const op of init) applyOp(schema, model, op);
  const history = new SnapshotHistory(HIST);
  const serverFrames = new Map<number, Frame>();
  const replica = new Replica(schema, HIST);
  const inflight: { at: number; ackLost: boolean; msg: { tick: number; baseTick: number; body: Uint8Array; checksum: number } }[] = [];
  const bodies: Uint8Array[] = [];
  let acked = 0;
  const deliver = (m: (typeof inflight)[number], late: boolean): void => {
    const r = replica.apply(m.msg.baseTick, m.msg.tick, m.msg.body, m.msg.checksum);
    if (r.ok) {
      expect(framesEqual(r.frame, serverFrames.get(m.msg.tick) as Frame)).toBe(true);
      if (!m.ackLost) acked = Math.max(acked, m.msg.tick);
    } else {
      // Only a message overtaken by newer ones may find its baseline gone or itself too old.
      expect(late, r.error).toBe(true);
      expect(['baseline gone', 'too old']).toContain(r.error);
    }
  };
  ticks.forEach((step, i) => {
    const tick = i + 1;
    for (const op of step.ops) applyOp(schema, model, op);
    const frame = toFrame(schema, model, tick);
    serverFrames.set(tick, frame);
    history.push(frame);
    const base = acked > 0 ? history.get(acked) : undefined;
    const body = encodeDelta(schema, base ?? null, frame);
    bodies.push(body);
    const full = decodeDelta(schema, null, encodeDelta(schema, null, frame), tick);
    expect(!isDeltaError(full) && framesEqual(full, frame)).toBe(true);
    const m = {
      at: tick + 1 + step.lateBy,
      ackLost: step.ackLost,
      msg: { tick, baseTick: base ? acked : 0, body, checksum: frameChecksum(frame) },
    };
    if (step.send === 'now') deliver(m, false);
    else if (step.send === 'late') inflight.push(m);
    for (let k = 0; k < inflight.length; k++) {
      if (inflight[k].at <= tick) deliver(inflight.splice(k--, 1)[0], true);
    }
  });
  return bodies;
}

describe('delta chains', () => {
  for (const [name, schema] of [
    ['test schema', TS],
    ['arena schema', ARENA_SCHEMA],
  ] as const) {
    it(`any chain of deltas from any acked baseline reproduces the server frame (${name})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(tickArb, { maxLength: 40 }), (init, ticks) => {
          runChain(schema, init, ticks);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('random bytes and mutated bodies never throw; whatever decodes is a valid frame', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        fc.array(tickArb, { minLength: 1, maxLength: 10 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: 4 }),
        fc.nat(),
        fc.integer(),
        (init, ticks, noise, flips, cut, sum) => {
          const model: Model = new Map();
          for (const op of init) applyOp(TS, model, op);
          const base = toFrame(TS, model, 1);
          const bodies = runChain(TS, init, ticks);
          const body = bodies[bodies.length - 1].slice();
          for (const [at, bit] of flips) if (body.length) body[at % body.length] ^= 1 << bit;
          const candidates = [noise, body, body.subarray(0, cut % (body.length + 1)), Uint8Array.from([...body, ...noise])];
          for (const bytes of candidates) {
            for (const b of [null, base]) {
              const r = decodeDelta(TS, b, bytes, 2);
              if (!isDeltaError(r)) expect(checkFrame(TS, r)).toBeNull();
            }
            const replica = new Replica(TS);
            replica.apply(0, 1, encodeDelta(TS, null, base), frameChecksum(base));
            for (const [bt, t] of [
              [0, 2],
              [1, 2],
              [1, 1],
              [cut, cut + 1],
              [Number.NaN, 3],
            ]) {
              const r = replica.apply(bt, t, bytes, sum);
              if (r.ok) expect(checkFrame(TS, r.frame)).toBeNull();
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('delta costs and layout', () => {
  const arena = (): Frame => {
    let w = createWorld({ seed: 3, npcCount: 40 });
    for (let i = 0; i < 8; i++) w = addPlayer(w).world;
    return worldToFrame(new FrameBuilder(ARENA_SCHEMA), w, 1);
  };

  it('a full snapshot decodes to the same frame, ids cost ~1 bit each', () => {
    const f = arena();
    const body = encodeDelta(ARENA_SCHEMA, null, f);
    const r = decodeDelta(ARENA_SCHEMA, null, body, 1);
    expect(!isDeltaError(r) && framesEqual(r, f)).toBe(true);
    // npc: 1 id bit + 2 type bits + 14 + 14 + 6 = 37 bits; player 1 + 2 + 69 + 46 (seat: 16 + 15 + 15);
    // round 1 + 2 + 57 (+ a little for counts)
    expect(body.length).toBeLessThanOrEqual(Math.ceil((40 * 37 + 8 * 119 + 60 + 16) / 8));
  });

  it('an idle world costs one byte', () => {
    const f = arena();
    expect([...encodeDelta(ARENA_SCHEMA, f, f)]).toEqual([0b11100000]);
  });

  it('moving drones cost 16 bits each: gap, same-mask, two 6-bit deltas', () => {
    const b = new FrameBuilder(ARENA_SCHEMA);
    const drones = (dx: number): Frame => {
      b.begin(1);
      for (let id = 1; id <= 100; id++) b.add(T_NPC, id, { x: 400 + id + dx, y: 300 - dx, hp: 40 });
      return b.end();
    };
    const body = encodeDelta(ARENA_SCHEMA, drones(0), drones(2.5)); // 20 grid steps on each axis
    // removed 1 + created 1 + ue(100) 13 + 100 * 16 = 1615 bits
    expect(body.length).toBe(Math.ceil(1615 / 8));
  });

  it('angles wrap the short way; big jumps fall back to the full value', () => {
    const m = (a: number, x = 0): Model => new Map([[7, { type: 0, vals: [x, 0, a, 0, 0] }]]);
    const len = (from: Model, to: Model): number => {
      const a = toFrame(TS, from, 1);
      const b = toFrame(TS, to, 2);
      const w = new BitWriter();
      const body = encodeDelta(TS, a, b, w);
      const r = decodeDelta(TS, a, body, 2);
      expect(!isDeltaError(r) && framesEqual(r, b)).toBe(true);
      return w.bitLength;
    };
    expect(len(m(63), m(1))).toBe(len(m(1), m(3))); // +2 across the wrap = +2 inside
    expect(len(m(0), m(30))).toBeGreaterThan(len(m(0), m(3)));
    expect(len(m(0, 0), m(0, 800))).toBeGreaterThan(len(m(0, 0), m(0, 7)));
  });

  it('a type change under the same id travels as remove + create', () => {
    const a = toFrame(TS, new Map([[5, { type: 0, vals: [1, 2, 3, 4, 1] }]]), 1);
    const b = toFrame(TS, new Map([[5, { type: 1, vals: [123456789, 1] }]]), 2);
    const r = decodeDelta(TS, a, encodeDelta(TS, a, b), 2);
    expect(!isDeltaError(r) && framesEqual(r, b)).toBe(true);
  });
});

describe('delta decoder rejects malformed bodies', () => {
  const base = toFrame(
    TS,
    new Map([
      [5, { type: 0, vals: [2, 10, 10, 10, 0] }],
      [9, { type: 1, vals: [1, 0] }],
    ]),
    1,
  );
  const body = (write: (w: BitWriter) => void): Uint8Array => {
    const w = new BitWriter();
    write(w);
    return w.finish();
  };
  const createOne = (w: BitWriter, idDiff: number, type: number, fields: [number, number][]): void => {
    w.writeUE(0); // removed
    w.writeUE(1); // created
    w.writeSE(idDiff);
    w.writeBits(type, 2);
    for (const [v, n] of fields) w.writeBits(v, n);
  };
  const moverFields: [number, number][] = [
    [0, 10],
    [0, 6],
    [0, 6],
    [0, 5],
    [0, 1],
  ];

  it.each([
    [
      'unknown type index',
      null,
      body((w) => {
        createOne(w, 0, 3, [
          [0, 24],
          [0, 24],
        ]);
        w.writeUE(0);
      }),
      'unknown type',
    ],
    [
      'out-of-range value',
      null,
      body((w) => {
        createOne(w, 0, 0, [[1023, 10], ...moverFields.slice(1)]);
        w.writeUE(0);
      }),
      'value out of range',
    ],
    [
      'created id collides with a survivor',
      base,
      body((w) => {
        createOne(w, 5 - 10, 0, moverFields);
        w.writeUE(0);
      }),
      'created id already exists',
    ],
    [
      'removed index past the base',
      base,
      body((w) => {
        w.writeUE(1);
        w.writeUE(2);
      }),
      'bad removed index',
    ],
    [
      'changes without a base',
      null,
      body((w) => {
        w.writeUE(0);
        w.writeUE(0);
        w.writeUE(1);
      }),
      'bad changed count',
    ],
    [
      'changed index past the survivors',
      base,
      body((w) => {
        w.writeUE(0);
        w.writeUE(0);
        w.writeUE(1);
        w.writeUE(2);
      }),
      'bad changed index',
    ],
    [
      'empty change mask',
      base,
      body((w) => {
        w.writeUE(0);
        w.writeUE(0);
        w.writeUE(1);
        w.writeUE(0);
        w.writeBits(0, 7); // '00', then an all-zero mask
      }),
      'empty change mask',
    ],
    [
      'the earlier mask before there is one',
      base,
      body((w) => {
        w.writeUE(0);
        w.writeUE(0);
        w.writeUE(1);
        w.writeUE(0);
        w.writeBits(0b01, 2);
      }),
      'empty change mask',
    ],
    [
      'a change that changes nothing',
      base,
      body((w) => {
        w.writeUE(0);
        w.writeUE(0);
        w.writeUE(1);
        w.writeUE(0);
        w.writeBits(1, 1);
        w.writeBits(1, 1);
        w.writeBits(0, 4);
        w.writeBits(1, 1);
        w.writeBits(0, 3);
      }),
      'bad field change',
    ],
    [
      'a delta leaving the range',
      base,
      body((w) => {
        w.writeUE(0);
        w.writeUE(0);
        w.writeUE(1);
        w.writeUE(0);
        w.writeBits(0b0010000, 7); // '00' new mask, field 0 only
        w.writeBits(1, 1);
        w.writeBits(0b1000, 4);
      }),
      'bad field change',
    ],
    ['trailing garbage', base, Uint8Array.from([0b11100000, 0]), 'trailing bytes'],
    ['non-zero padding', base, Uint8Array.from([0b11100001]), 'trailing bytes'],
    ['empty body', base, new Uint8Array(0), 'bad removed count'],
  ])('%s', (_name, b, bytes, error) => {
    expect(decodeDelta(TS, b, bytes, 2)).toEqual({ error });
  });

  it('every strict prefix of a valid body is rejected', () => {
    const cur = toFrame(
      TS,
      new Map([
        [5, { type: 0, vals: [11, 12, 63, 31, 1] }],
        [6, { type: 2, vals: [4095, 1000] }],
      ]),
      2,
    );
    const full = encodeDelta(TS, base, cur);
    expect(decodeDelta(TS, base, full, 2)).not.toHaveProperty('error');
    for (let n = 0; n < full.length; n++) expect(decodeDelta(TS, base, full.subarray(0, n), 2)).toHaveProperty('error');
  });
});
