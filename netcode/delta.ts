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
 * This file holds the layout and the encoder; deltadecode.ts reads it back and
 * checks everything. Both walk the layout in the same order with the same
 * per-type table (`schema.ts`) and the same starting masks (`deltaInfo`).
 */
import { BitWriter } from './bits.ts';
import type { Frame } from './frame.ts';
import { KIND_ANGLE, KIND_BOOL, type Schema } from './schema.ts';

/** Per-schema constants of the layout, derived from the table; shared by encoder and decoder. */
export interface DeltaInfo {
  initMask: Int32Array; // per type: its x|y fields
  minCreateBits: number; // lower bound on the bits of one created entity (bounds allocations on garbage)
}
const infos = new WeakMap<Schema, DeltaInfo>();
export function deltaInfo(schema: Schema): DeltaInfo {
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

// Scratch shared by all encodes (single-threaded, no callbacks mid-call). Grown, never shrunk.
let removedIdx = new Int32Array(256);
let createdIdx = new Int32Array(256);
let keptBase = new Int32Array(256);
let keptCur = new Int32Array(256);
let keptMask = new Int32Array(256);
const lastMask = new Int32Array(256); // per type: the mask of the previous changed entity
const prevMask = new Int32Array(256); // per type: the mask before that (0 = none yet)
const sharedWriter = new BitWriter(4096);

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
  lastMask.set(deltaInfo(schema).initMask);
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
