/**
 * Per-world figures: bytes per snapshot and per moving entity, encode and
 * decode+apply times, against a naive msgpack full snapshot.
 */
import { encode as msgpackEncode } from '@msgpack/msgpack';
import { ARENA_SCHEMA, worldToFrame } from '../sim/netschema.ts';
import { frameChecksum } from '../../netcode/checksum.ts';
import { encodeDelta } from '../../netcode/delta.ts';
import { type Frame, FrameBuilder } from '../../netcode/frame.ts';
import { Replica } from '../../netcode/replica.ts';
import { median, nowUs, Scenario } from './scenario.ts';

export interface WorldResult {
  entities: number;
  players: number;
  npcs: number;
  moving: number;
  encode_us: number;
  decode_us: number;
  bytes_per_snapshot: number;
  bytes_per_moving_entity: number;
  idle_bytes: number;
  full_bytes: number;
  naive_full_bytes: number;
}

const schema = ARENA_SCHEMA;

/** Entities present in both frames whose position changed. */
function countMoving(a: Frame, b: Frame): number {
  let n = 0;
  for (let i = 0, j = 0; i < a.count && j < b.count; ) {
    if (a.ids[i] < b.ids[j]) i++;
    else if (a.ids[i] > b.ids[j]) j++;
    else {
      const t = schema.types[b.types[j]];
      const oa = i * schema.stride,
        ob = j * schema.stride;
      if (t.xField >= 0 && (a.values[oa + t.xField] !== b.values[ob + t.xField] || a.values[oa + t.yField] !== b.values[ob + t.yField]))
        n++;
      i++;
      j++;
    }
  }
  return n;
}

/** The same frame as a plain msgpack message: [[id, type, ...real-unit fields], ...]. */
function naiveFull(f: Frame): number {
  const rows: number[][] = [];
  for (let i = 0; i < f.count; i++) {
    rows.push([f.ids[i], f.types[i], ...Object.values(schema.dequantize(f.types[i], f.values, i * schema.stride))]);
  }
  return msgpackEncode(rows).length;
}

export function benchWorld(opts: { players: number; npcs: number; ticks: number; reps: number; seed: number }): WorldResult {
  const sc = new Scenario(opts);
  const builder = new FrameBuilder(schema);
  for (let t = 0; t < 60; t++) sc.step(); // let shots, deaths and respawns reach a steady state
  const frames: Frame[] = [];
  for (let t = 1; t <= opts.ticks; t++) frames.push(worldToFrame(builder, sc.step(), t));

  const bodies: Uint8Array[] = [];
  const sums: number[] = [];
  let moving = 0;
  let bytes = 0;
  for (let i = 1; i < frames.length; i++) {
    bodies.push(encodeDelta(schema, frames[i - 1], frames[i]));
    sums.push(frameChecksum(frames[i]));
    moving += countMoving(frames[i - 1], frames[i]);
    bytes += bodies[i - 1].length;
  }
  const n = bodies.length;
  const last = frames[frames.length - 1];
  const idle = encodeDelta(schema, last, last).length;

  // Encode: per-call timing, median over all calls of the timed reps (warm-up reps discarded).
  const enc: number[] = [];
  for (let rep = 0; rep < opts.reps + 3; rep++) {
    for (let i = 1; i < frames.length; i++) {
      const t0 = nowUs();
      encodeDelta(schema, frames[i - 1], frames[i]);
      const t1 = nowUs();
      if (rep >= 3) enc.push(t1 - t0);
    }
  }
  // Decode + apply: what a client does per snapshot (decode, checksum, store).
  const dec: number[] = [];
  const full = encodeDelta(schema, null, frames[0]);
  for (let rep = 0; rep < opts.reps + 3; rep++) {
    const replica = new Replica(schema);
    if (!replica.apply(0, 1, full, frameChecksum(frames[0])).ok) throw new Error('bench: full apply failed');
    for (let i = 1; i < frames.length; i++) {
      const t0 = nowUs();
      const r = replica.apply(i, i + 1, bodies[i - 1], sums[i - 1]);
      const t1 = nowUs();
      if (!r.ok) throw new Error(`bench: apply failed at ${i}: ${r.error}`);
      if (rep >= 3) dec.push(t1 - t0);
    }
  }
  return {
    entities: Math.round(frames.reduce((s, f) => s + f.count, 0) / frames.length),
    players: opts.players,
    npcs: opts.npcs,
    moving: Math.round(moving / n),
    encode_us: round2(median(enc)),
    decode_us: round2(median(dec)),
    bytes_per_snapshot: round2(bytes / n),
    bytes_per_moving_entity: round2((bytes - idle * n) / moving),
    idle_bytes: idle,
    full_bytes: encodeDelta(schema, null, last).length,
    naive_full_bytes: naiveFull(last),
  };
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;
