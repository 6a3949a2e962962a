/**
 * Entity field specs: ONE table per entity type drives quantization, the delta
 * writer, the delta reader, validation and interest management, so they cannot
 * drift apart (Quake 3's netField_t idea).
 *
 * Every field becomes a non-negative integer q ("quantized") that fits `bits`:
 *   fixed  q = round((v - min) * scale), clamped to [0, maxQ], maxQ = round((max - min) * scale);
 *          v = q / scale + min
 *   uint   q = round(v), clamped to [0, 2^bits - 1]
 *   angle  v in [0, steps) -> q = round(v * 2^bits / steps) mod 2^bits; deltas wrap
 *   bool   q = v ? 1 : 0 (dequantized as 0/1)
 * Invariant: quantize(dequantize(q)) === q for every valid q.
 *
 * Defining a bad table is a programmer error and throws at startup; nothing
 * here throws on game values (NaN counts as 0, out-of-range values clamp).
 */

export type FieldSpec =
  | { name: string; kind: 'fixed'; min: number; max: number; scale: number; deltaBits: number }
  | { name: string; kind: 'uint'; bits: number; deltaBits?: number }
  | { name: string; kind: 'angle'; bits: number; steps: number; deltaBits?: number }
  | { name: string; kind: 'bool' };

export interface TypeSpec {
  name: string;
  fields: readonly FieldSpec[];
  /** Position fields for interest management (fixed or uint); a type without them is always in view. */
  x?: string;
  y?: string;
  /** Marks the type of the clients' own entities (at most one type; needs x and y). See SeatSpec. */
  seat?: SeatSpec;
}

/**
 * The fields through which a client learns what the server did with its inputs,
 * carried in its own entity (id = its player id) so that a snapshot holds nothing
 * private and one copy can go to the whole room:
 * - `seq`, an angle field of 2^bits steps (so its deltas wrap): the last input seq
 *   the server applied, as (seq - tick) mod 2^bits. One input a tick leaves it
 *   unchanged, so it costs nothing in a delta; the client picks the seq at or
 *   below its newest one sent that matches (netcode/client.ts).
 * - `anchorX`/`anchorY`, fixed fields: where the client's reconciliation starts
 *   (its position as of that seq) minus the entity's position; 0 unless the
 *   server moved the player ahead on guessed inputs (server/inputs.ts).
 */
export interface SeatSpec {
  seq: string;
  anchorX: string;
  anchorY: string;
}

/** A SeatSpec compiled to field indexes. */
export interface CompiledSeat {
  readonly type: number;
  readonly seq: number;
  /** Modulus of the seq field: 2^bits. */
  readonly seqMod: number;
  readonly anchorX: number;
  readonly anchorY: number;
}

export const KIND_FIXED = 0;
export const KIND_UINT = 1;
export const KIND_ANGLE = 2;
export const KIND_BOOL = 3;

/** Limits of the wire format: masks go through 24-bit writes, values live in an Int32Array. */
export const MAX_FIELDS = 24;
export const MAX_TYPES = 256;
const MAX_VALUE_BITS = 31;

/** One entity type, compiled into flat arrays for the codec's hot loops. */
export interface CompiledType {
  readonly index: number;
  readonly name: string;
  readonly fieldCount: number;
  readonly names: readonly string[];
  readonly kind: Uint8Array;
  /** Bits of a full value. */
  readonly bits: Uint8Array;
  /** Bits of a signed delta; 0 = the field always travels as a full value. */
  readonly deltaBits: Uint8Array;
  /** Largest valid quantized value. */
  readonly maxQ: Int32Array;
  readonly min: Float64Array;
  /** fixed: steps per unit; angle: 2^bits / steps. */
  readonly scale: Float64Array;
  /** Field index of x / y, or -1. */
  readonly xField: number;
  readonly yField: number;
}

export type EntityValues = Record<string, number>;

export interface Schema {
  readonly types: readonly CompiledType[];
  /** Values per entity in a Frame: the largest field count over all types. */
  readonly stride: number;
  /** Bits of a type index on the wire. */
  readonly typeBits: number;
  /** The clients' own entity type and its seat fields, if the schema has one. */
  readonly seat: CompiledSeat | null;
  typeIndex(name: string): number;
  /** Writes the type's fields of `obj` (real units) as quantized ints at out[offset..]. */
  quantize(typeIndex: number, obj: object, out: Int32Array, offset: number): void;
  /**
   * The same from the fields' values in the type's field order (`fieldIndex`): for a
   * hot caller, as it reads no property by a computed name (V8's megamorphic lookup).
   */
  quantizeValues(typeIndex: number, values: ArrayLike<number>, out: Int32Array, offset: number): void;
  /** Position of a field in its type's order; throws for an unknown name. */
  fieldIndex(typeIndex: number, name: string): number;
  /** Real-unit values of one entity; bools come back as 0/1. */
  dequantize(typeIndex: number, values: ArrayLike<number>, offset: number): EntityValues;
  /** Is q a valid quantized value of that field? */
  inRange(typeIndex: number, field: number, q: number): boolean;
}

/** The real-unit value of quantized `q` in field `f` of `t` (bools as 0/1). */
export function fieldValue(t: CompiledType, f: number, q: number): number {
  const k = t.kind[f];
  return k === KIND_FIXED ? q / t.scale[f] + t.min[f] : k === KIND_ANGLE ? q / t.scale[f] : q;
}

/** Field `i` of `t` quantized from its real-unit value `raw` (see the table at the top). */
function quantizeField(t: CompiledType, i: number, raw: unknown): number {
  const k = t.kind[i];
  if (k === KIND_BOOL) return raw ? 1 : 0;
  if (k === KIND_ANGLE) {
    const m = t.maxQ[i] + 1;
    const q = Math.round(Number(raw) * t.scale[i]) % m;
    if (q < 0) return q + m;
    return q >= 0 ? q : 0; // NaN
  }
  let v = Number(raw);
  if (Number.isNaN(v)) v = 0; // NaN, e.g. a field the object lacks: the value 0 (q 0 unless min < 0)
  const q = Math.round(k === KIND_FIXED ? (v - t.min[i]) * t.scale[i] : v);
  if (!(q >= 0)) return 0;
  return q > t.maxQ[i] ? t.maxQ[i] : q;
}

const bitsFor = (maxQ: number): number => (maxQ <= 0 ? 0 : 32 - Math.clz32(maxQ));

function compileType(spec: TypeSpec, index: number): CompiledType {
  const n = spec.fields.length;
  if (n === 0 || n > MAX_FIELDS) throw new Error(`schema: type ${spec.name} needs 1..${MAX_FIELDS} fields`);
  const t = {
    index,
    name: spec.name,
    fieldCount: n,
    names: spec.fields.map((f) => f.name),
    kind: new Uint8Array(n),
    bits: new Uint8Array(n),
    deltaBits: new Uint8Array(n),
    maxQ: new Int32Array(n),
    min: new Float64Array(n),
    scale: new Float64Array(n),
    xField: -1,
    yField: -1,
  };
  if (new Set(t.names).size !== n) throw new Error(`schema: duplicate field name in ${spec.name}`);
  spec.fields.forEach((f, i) => {
    const bad = (why: string): never => {
      throw new Error(`schema: ${spec.name}.${f.name}: ${why}`);
    };
    let deltaBits = 0;
    if (f.kind === 'fixed') {
      if (!(f.max > f.min) || !(f.scale > 0)) bad('needs max > min and scale > 0');
      const maxQ = Math.round((f.max - f.min) * f.scale);
      if (maxQ > 2 ** MAX_VALUE_BITS - 1) bad('range * scale too large');
      t.kind[i] = KIND_FIXED;
      t.maxQ[i] = maxQ;
      t.bits[i] = bitsFor(maxQ);
      t.min[i] = f.min;
      t.scale[i] = f.scale;
      deltaBits = f.deltaBits;
    } else if (f.kind === 'uint' || f.kind === 'angle') {
      if (!Number.isInteger(f.bits) || f.bits < 1 || f.bits > MAX_VALUE_BITS) bad(`bits must be 1..${MAX_VALUE_BITS}`);
      t.kind[i] = f.kind === 'uint' ? KIND_UINT : KIND_ANGLE;
      t.bits[i] = f.bits;
      t.maxQ[i] = 2 ** f.bits - 1;
      t.scale[i] = 1;
      if (f.kind === 'angle') {
        if (!(f.steps > 0)) bad('steps must be > 0');
        t.scale[i] = 2 ** f.bits / f.steps;
      }
      deltaBits = f.deltaBits ?? 0;
    } else if (f.kind === 'bool') {
      t.kind[i] = KIND_BOOL;
      t.bits[i] = 1;
      t.maxQ[i] = 1;
      t.scale[i] = 1;
    } else {
      bad(`unknown kind ${(f as { kind: string }).kind}`);
    }
    if (!Number.isInteger(deltaBits) || deltaBits < 0 || deltaBits > 24) bad('deltaBits must be 0..24');
    t.deltaBits[i] = deltaBits;
  });
  const pos = (name: string | undefined): number => {
    if (name === undefined) return -1;
    const i = t.names.indexOf(name);
    if (i < 0 || (t.kind[i] !== KIND_FIXED && t.kind[i] !== KIND_UINT)) {
      throw new Error(`schema: ${spec.name}: position field ${name} must be a fixed or uint field`);
    }
    return i;
  };
  t.xField = pos(spec.x);
  t.yField = pos(spec.y);
  if (t.xField < 0 !== t.yField < 0) throw new Error(`schema: ${spec.name}: give both x and y or neither`);
  return t;
}

export function defineSchema(specs: readonly TypeSpec[]): Schema {
  if (specs.length === 0 || specs.length > MAX_TYPES) throw new Error(`schema: needs 1..${MAX_TYPES} types`);
  const types = specs.map(compileType);
  const byName = new Map(types.map((t) => [t.name, t.index]));
  if (byName.size !== types.length) throw new Error('schema: duplicate type name');
  const stride = Math.max(...types.map((t) => t.fieldCount));
  const typeBits = bitsFor(types.length - 1);
  const seat = compileSeat(specs, types);

  function quantize(typeIndex: number, obj: object, out: Int32Array, offset: number): void {
    const t = types[typeIndex];
    const src = obj as Record<string, unknown>;
    for (let i = 0; i < t.fieldCount; i++) out[offset + i] = quantizeField(t, i, src[t.names[i]]);
    for (let i = t.fieldCount; i < stride; i++) out[offset + i] = 0; // unused slots stay 0: frames compare and hash cleanly
  }

  function quantizeValues(typeIndex: number, values: ArrayLike<number>, out: Int32Array, offset: number): void {
    const t = types[typeIndex];
    for (let i = 0; i < t.fieldCount; i++) out[offset + i] = quantizeField(t, i, values[i]);
    for (let i = t.fieldCount; i < stride; i++) out[offset + i] = 0;
  }

  function dequantize(typeIndex: number, values: ArrayLike<number>, offset: number): EntityValues {
    const t = types[typeIndex];
    const obj: EntityValues = {};
    for (let i = 0; i < t.fieldCount; i++) obj[t.names[i]] = fieldValue(t, i, values[offset + i]);
    return obj;
  }

  return {
    types,
    stride,
    typeBits,
    seat,
    quantize,
    quantizeValues,
    dequantize,
    fieldIndex(typeIndex: number, name: string): number {
      const i = types[typeIndex]?.names.indexOf(name) ?? -1;
      if (i < 0) throw new Error(`schema: type ${types[typeIndex]?.name ?? typeIndex} has no field ${name}`);
      return i;
    },
    typeIndex(name: string): number {
      const i = byName.get(name);
      if (i === undefined) throw new Error(`schema: unknown type ${name}`);
      return i;
    },
    inRange(typeIndex: number, field: number, q: number): boolean {
      return Number.isInteger(q) && q >= 0 && q <= types[typeIndex].maxQ[field];
    },
  };
}

function compileSeat(specs: readonly TypeSpec[], types: readonly CompiledType[]): CompiledSeat | null {
  const withSeat = specs.filter((s) => s.seat);
  if (withSeat.length === 0) return null;
  if (withSeat.length > 1) throw new Error('schema: only one type may carry the seat fields');
  const spec = withSeat[0];
  const t = types[specs.indexOf(spec)];
  const field = (name: string, kind: number, what: string): number => {
    const i = t.names.indexOf(name);
    if (i < 0 || t.kind[i] !== kind) throw new Error(`schema: ${t.name}: seat field ${name} must be ${what}`);
    return i;
  };
  const seat = spec.seat as SeatSpec;
  const seq = field(seat.seq, KIND_ANGLE, 'an angle field');
  if (t.scale[seq] !== 1) throw new Error(`schema: ${t.name}: seat field ${seat.seq} needs steps = 2^bits`);
  if (t.xField < 0) throw new Error(`schema: ${t.name}: a seat type needs x and y`);
  return {
    type: t.index,
    seq,
    seqMod: t.maxQ[seq] + 1,
    anchorX: field(seat.anchorX, KIND_FIXED, 'a fixed field'),
    anchorY: field(seat.anchorY, KIND_FIXED, 'a fixed field'),
  };
}
