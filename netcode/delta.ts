/**
 * Snapshot delta codec: the body bytes of one snapshot, encoded against a
 * baseline frame the client already holds, or against nothing (full snapshot).
 * The protocol layer carries the body as msgpack `bin` with the tick, the
 * baseline tick and the checksum; none of those are in the body.
 *
 * Wire layout. Bit-packed, MSB-first, zero-padded to a whole byte.
 * ue = Exp-Golomb, se = signed (zigzag) Exp-Golomb, see bits.ts.
 *
 *   body    := removed created changed padding
 *   removed := ue(n) { ue(gap) }*n          indexes into the base: idx = prev + 1 + gap (prev starts at -1)
 *   created := ue(n) { id type value* }*n    ascending ids, every field in table order
 *     id    := se(id - anchor) for the first  anchor = last base id + 1 (0 without a base)
 *            | ue(id - prevId - 1) after
 *     type  := schema.typeBits bits
 *     value := the full quantized value in the field's `bits`
 *   changed := ue(n) { ue(gap) mask field* }*n
 *              indexes into the survivors (base entities not removed, in id order), like `removed`
 *     mask  := '1'                           same mask as the previous changed entity of this type
 *                                            (before the first one: the type's x|y fields)
 *            | '01'                          the mask this type had before that one (they swap):
 *                                            an odd entity out (say a player whose input came
 *                                            late) costs 2 bits, not a whole mask, to switch back
 *            | '00' fieldCount bits          a new mask; top bit = field 0; never 0
 *     field := per set mask bit, in table order:
 *              bool                 nothing: it flips
 *              deltaBits = 0        the full value
 *              deltaBits = d        '1' + signed difference in d bits (two's complement; angles wrap)
 *                                 | '0' + the full value (when the difference does not fit)
 *
 * An entity whose type changes under the same id travels as removed + created.
 * Costs: idle world 3 bits = 1 byte; a drone moving on both axes 1+1+7+7 = 16 bits.
 *
 * The decoder never throws and returns a valid frame or an error: it
 * rejects unknown types, out-of-range values, truncated input, trailing bytes,
 * non-zero padding, ids out of order or colliding with survivors, references
 * past the base, empty masks and "changes" that change nothing.
 */
import { BitReader, BitWriter } from './bits.ts';
import { allocFrame, type Frame, type FrameAlloc, MAX_ENTITIES } from './frame.ts';
import { KIND_ANGLE, KIND_BOOL, type Schema } from './schema.ts';

export interface DeltaError {
  readonly error: string;
}

export const isDeltaError = (r: Frame | DeltaError): r is DeltaError => 'error' in r;

/** Per-schema constants derived from the table. */
interface CodecInfo {
  initMask: Int32Array; // per type: its x|y fields
  minCreateBits: number; // lower bound on the bits of one created entity (bounds allocations on garbage)
}
const infos = new WeakMap<Schema, CodecInfo>();
function infoOf(schema: Schema): CodecInfo {
  let info = infos.get(schema);
  if (!info) {
    const initMask = new Int32Array(schema.types.length);
    let minFields = Infinity;
    for (const t of schema.types) {
      const bit = (f: number): number => (f < 0 ? 0 : 1 << (t.fieldCount - 1 - f));
      initMask[t.index] = bit(t.xField) | bit(t.yField);
      let sum = 0;
      for (let f = 0; f < t.fieldCount; f++) sum += t.bits[f];
      minFields = Math.min(minFields, sum);
    }
    info = { initMask, minCreateBits: 1 + schema.typeBits + minFields };
    infos.set(schema, info);
  }
  return info;
}

// Scratch shared by all calls (single-threaded, no callbacks mid-call). Grown, never shrunk.
let removedIdx = new Int32Array(256);
let createdIdx = new Int32Array(256);
let keptBase = new Int32Array(256);
let keptCur = new Int32Array(256);
let keptMask = new Int32Array(256);
let createdIds = new Uint32Array(256);
let createdTypes = new Uint8Array(256);
let createdValues = new Int32Array(256 * 8);
let survivors = new Int32Array(256);
let survivorOut = new Int32Array(256);
const lastMask = new Int32Array(256); // per type: the mask of the previous changed entity
const prevMask = new Int32Array(256); // per type: the mask before that (0 = none yet)
const sharedWriter = new BitWriter(4096);
const reader = new BitReader();

function ensureEncodeScratch(n: number): void {
  if (removedIdx.length >= n) return;
  removedIdx = new Int32Array(n);
  createdIdx = new Int32Array(n);
  keptBase = new Int32Array(n);
  keptCur = new Int32Array(n);
  keptMask = new Int32Array(n);
}

/**
 * Encodes `cur` against `base` (null: full snapshot, everything created).
 * Returns a fresh copy of the body; `writer` only lends its buffer.
 */
export function encodeDelta(schema: Schema, base: Frame | null, cur: Frame, writer: BitWriter = sharedWriter): Uint8Array {
  const { stride, types } = schema;
  const bc = base ? base.count : 0;
  const cc = cur.count;
  ensureEncodeScratch(bc + cc);
  const bIds = base ? base.ids : cur.ids;
  const bTypes = base ? base.types : cur.types;
  const bVals = base ? base.values : cur.values;
  const { ids: cIds, types: cTypes, values: cVals } = cur;

  // One merge pass classifies every entity; kept ones get their change mask.
  let nRem = 0,
    nCre = 0,
    nKept = 0,
    nChanged = 0;
  let i = 0,
    j = 0;
  while (i < bc || j < cc) {
    if (j >= cc || (i < bc && bIds[i] < cIds[j])) {
      removedIdx[nRem++] = i++;
    } else if (i >= bc || cIds[j] < bIds[i]) {
      createdIdx[nCre++] = j++;
    } else if (bTypes[i] !== cTypes[j]) {
      removedIdx[nRem++] = i++;
      createdIdx[nCre++] = j++;
    } else {
      const fc = types[cTypes[j]].fieldCount;
      const bo = i * stride,
        co = j * stride;
      let mask = 0;
      for (let f = 0; f < fc; f++) mask = (mask << 1) | (bVals[bo + f] !== cVals[co + f] ? 1 : 0);
      keptBase[nKept] = i;
      keptCur[nKept] = j;
      keptMask[nKept++] = mask;
      if (mask !== 0) nChanged++;
      i++;
      j++;
    }
  }

  const w = writer;
  w.reset();
  w.writeUE(nRem);
  for (let k = 0, prev = -1; k < nRem; k++) {
    w.writeUE(removedIdx[k] - prev - 1);
    prev = removedIdx[k];
  }

  w.writeUE(nCre);
  const anchor = bc > 0 ? bIds[bc - 1] + 1 : 0;
  for (let k = 0, prev = -1; k < nCre; k++) {
    const c = createdIdx[k];
    const id = cIds[c];
    if (k === 0) w.writeSE(id - anchor);
    else w.writeUE(id - prev - 1);
    prev = id;
    const t = types[cTypes[c]];
    w.writeBits(t.index, schema.typeBits);
    for (let f = 0, o = c * stride; f < t.fieldCount; f++) w.writeBits(cVals[o + f], t.bits[f]);
  }

  w.writeUE(nChanged);
  lastMask.set(infoOf(schema).initMask);
  prevMask.fill(0);
  for (let k = 0, prev = -1; k < nKept; k++) {
    const mask = keptMask[k];
    if (mask === 0) continue;
    w.writeUE(k - prev - 1);
    prev = k;
    const bo = keptBase[k] * stride;
    const t = types[bTypes[keptBase[k]]];
    const fc = t.fieldCount;
    const ti = t.index;
    if (mask === lastMask[ti]) {
      w.writeBits(1, 1);
    } else {
      if (mask === prevMask[ti]) w.writeBits(1, 2); // '01'
      else w.writeBits(mask, fc + 2); // '00', then the mask
      prevMask[ti] = lastMask[ti];
      lastMask[ti] = mask;
    }
    const co = keptCur[k] * stride;
    for (let f = 0; f < fc; f++) {
      if (((mask >> (fc - 1 - f)) & 1) === 0) continue;
      const kind = t.kind[f];
      if (kind === KIND_BOOL) continue;
      const b = cVals[co + f];
      const db = t.deltaBits[f];
      const bits = t.bits[f];
      if (db === 0) {
        w.writeBits(b, bits);
        continue;
      }
      let d = b - bVals[bo + f];
      if (kind === KIND_ANGLE) d = (d << (32 - bits)) >> (32 - bits); // shortest way round
      const lim = 1 << (db - 1);
      if (d >= -lim && d < lim) {
        w.writeBits(1, 1);
        w.writeBits(d & ((1 << db) - 1), db);
      } else {
        w.writeBits(b, bits + 1); // leading '0' selector, then the full value
      }
    }
  }
  return w.finish();
}

/** Decodes a body against `base` (null for a full snapshot) into a frame from `alloc`. Never throws. */
export function decodeDelta(
  schema: Schema, base: Frame | null, bytes: Uint8Array, tick: number, alloc: FrameAlloc = allocFrame,
): Frame | DeltaError {
  try {
    return decode(schema, base, bytes, tick, alloc);
  } catch (e) {
    return { error: `internal: ${(e as Error).message}` };
  }
}

const fail = (error: string): DeltaError => ({ error });

function decode(schema: Schema, base: Frame | null, bytes: Uint8Array, tick: number, alloc: FrameAlloc): Frame | DeltaError {
  const { stride, types } = schema;
  const r = reader;
  r.reset(bytes);
  const bc = base ? base.count : 0;

  const nRem = r.readUE();
  if (r.error || nRem > bc) return fail('bad removed count');
  const ns = bc - nRem;
  if (survivors.length < bc) {
    survivors = new Int32Array(bc);
    survivorOut = new Int32Array(bc);
  }
  let s = 0;
  let prev = -1;
  for (let k = 0; k < nRem; k++) {
    const idx = prev + 1 + r.readUE();
    if (r.error || idx >= bc) return fail('bad removed index');
    for (let q = prev + 1; q < idx; q++) survivors[s++] = q;
    prev = idx;
  }
  for (let q = prev + 1; q < bc; q++) survivors[s++] = q;

  const info = infoOf(schema);
  const nCre = r.readUE();
  if (r.error || nCre > MAX_ENTITIES || nCre * info.minCreateBits > r.bitsLeft) return fail('bad created count');
  if (createdIds.length < nCre) {
    createdIds = new Uint32Array(nCre);
    createdTypes = new Uint8Array(nCre);
  }
  if (createdValues.length < nCre * stride) createdValues = new Int32Array(nCre * stride); // strides differ per schema
  const anchor = base && bc > 0 ? base.ids[bc - 1] + 1 : 0;
  let prevId = -1;
  for (let k = 0; k < nCre; k++) {
    const id = k === 0 ? anchor + r.readSE() : prevId + 1 + r.readUE();
    if (r.error || id < 0 || id > 0xffffffff) return fail('bad created id');
    prevId = id;
    const ti = r.readBits(schema.typeBits);
    const t = types[ti];
    if (!t) return fail('unknown type');
    const o = k * stride;
    for (let f = 0; f < t.fieldCount; f++) {
      const q = r.readBits(t.bits[f]);
      if (q > t.maxQ[f]) return fail('value out of range');
      createdValues[o + f] = q;
    }
    for (let f = t.fieldCount; f < stride; f++) createdValues[o + f] = 0;
    if (r.error) return fail('truncated');
    createdIds[k] = id;
    createdTypes[k] = ti;
  }

  // Merge survivors and created entities by id.
  const count = ns + nCre;
  const frame = alloc(tick, count, stride);
  const { ids, types: outTypes, values } = frame;
  const bIds = base ? base.ids : ids;
  const bTypes = base ? base.types : outTypes;
  const bVals = base ? base.values : values;
  for (let a = 0, c = 0, o = 0; o < count; o++) {
    const fromBase = c >= nCre || (a < ns && bIds[survivors[a]] < createdIds[c]);
    if (fromBase) {
      const bi = survivors[a];
      if (c < nCre && bIds[bi] === createdIds[c]) return fail('created id already exists');
      ids[o] = bIds[bi];
      outTypes[o] = bTypes[bi];
      for (let f = 0, from = bi * stride, to = o * stride; f < stride; f++) values[to + f] = bVals[from + f];
      survivorOut[a++] = o;
    } else {
      if (a < ns && bIds[survivors[a]] === createdIds[c]) return fail('created id already exists');
      ids[o] = createdIds[c];
      outTypes[o] = createdTypes[c];
      for (let f = 0, from = c * stride, to = o * stride; f < stride; f++) values[to + f] = createdValues[from + f];
      c++;
    }
  }

  const nCh = r.readUE();
  if (r.error || nCh > ns) return fail('bad changed count');
  lastMask.set(info.initMask);
  prevMask.fill(0);
  prev = -1;
  for (let k = 0; k < nCh; k++) {
    const si = prev + 1 + r.readUE();
    if (r.error || si >= ns) return fail('bad changed index');
    prev = si;
    const o = survivorOut[si];
    const t = types[outTypes[o]];
    const fc = t.fieldCount;
    const ti = t.index;
    let mask = lastMask[ti];
    if (r.readBits(1) === 0) {
      mask = r.readBits(1) === 1 ? prevMask[ti] : r.readBits(fc);
      if (mask === 0) return fail('empty change mask');
      prevMask[ti] = lastMask[ti];
      lastMask[ti] = mask;
    }
    const vo = o * stride;
    for (let f = 0; f < fc; f++) {
      if (((mask >> (fc - 1 - f)) & 1) === 0) continue;
      const kind = t.kind[f];
      const old = values[vo + f];
      let q: number;
      if (kind === KIND_BOOL) {
        q = old ^ 1;
      } else if (t.deltaBits[f] !== 0 && r.readBits(1) === 1) {
        const db = t.deltaBits[f];
        const d = (r.readBits(db) << (32 - db)) >> (32 - db);
        q = kind === KIND_ANGLE ? (old + d) & t.maxQ[f] : old + d;
      } else {
        q = r.readBits(t.bits[f]);
      }
      if (q < 0 || q > t.maxQ[f] || q === old) return fail('bad field change');
      values[vo + f] = q;
    }
    if (r.error) return fail('truncated');
  }
  if (!r.atCleanEnd()) return fail(r.error ? 'truncated' : 'trailing bytes');
  return frame;
}
