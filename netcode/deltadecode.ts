/**
 * Snapshot delta decoder: reads a body in the wire layout written down atop
 * delta.ts (and written by its `encodeDelta`) against the baseline frame the
 * client holds, or against nothing (full snapshot), into a fresh frame.
 *
 * The decoder never throws and returns a valid frame or an error: it
 * rejects unknown types, out-of-range values, truncated input, trailing bytes,
 * non-zero padding, ids out of order or colliding with survivors, references
 * past the base, empty masks and "changes" that change nothing.
 */
import { BitReader } from './bits.ts';
import { deltaInfo } from './delta.ts';
import { allocFrame, type Frame, type FrameAlloc, MAX_ENTITIES } from './frame.ts';
import { KIND_ANGLE, KIND_BOOL, type Schema } from './schema.ts';

export interface DeltaError {
  readonly error: string;
}

export const isDeltaError = (r: Frame | DeltaError): r is DeltaError => 'error' in r;

// Scratch shared by all decodes (single-threaded, no callbacks mid-call). Grown, never shrunk.
let createdIds = new Uint32Array(256);
let createdTypes = new Uint8Array(256);
let createdValues = new Int32Array(256 * 8);
let survivors = new Int32Array(256);
let survivorOut = new Int32Array(256);
const lastMask = new Int32Array(256); // per type: the mask of the previous changed entity
const prevMask = new Int32Array(256); // per type: the mask before that (0 = none yet)
const reader = new BitReader();

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

  const info = deltaInfo(schema);
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
