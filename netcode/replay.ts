/**
 * The replay file: one room's match as the authority stepped it, so that the
 * game's pure step function can run it again. What the file holds:
 *
 * - `start`: the state the recording starts from (a keyframe), with the names
 *   of the players in it;
 * - per step, in the order the step read them: seats taken and left since the
 *   step before (`ops`), the inputs each player's step consumed (none, one, or a
 *   backlog of several), and for each shot how far back its shooter saw the others
 *   (`seen`, lag compensation);
 * - after each step, the checksum of the whole state it produced (`sums`);
 * - a keyframe every few seconds (the state, the earlier ticks' positions that the
 *   shots after it rewind to, and where each column's cursor stands), so a viewer
 *   seeks instantly and still replays those shots exactly.
 *
 * Columns, not records: the step counts, buttons and aims each lie in one byte
 * run (aims as per-player deltas, low bytes then high bytes; buttons as per-player
 * changes, in the file as eight bit planes, so a held button costs next to nothing),
 * which deflate compresses far better than records. The game's state inside a
 * keyframe is opaque here (`world: unknown`): the game parses it (game/sim/persist.ts).
 * The container is msgpack; compression (gzip) is the writer's and reader's (node:zlib
 * on the server, DecompressionStream in the browser). `decodeReplay` checks
 * everything it can without the game and never throws: it returns the reason.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { RewindTick } from './rewind.ts';

export const REPLAY_FORMAT = 'tickwire-replay';
export const REPLAY_VERSION = 1;
/** A replay's id (a file name on the server, a path segment of its URL): nothing a path could be made of. */
export const REPLAY_ID = /^[a-z0-9][a-z0-9-]{0,79}$/;

/** Seat changes between two steps, in the order they happened (the next step sees them all). */
export const OP_JOIN = 1; // [at, OP_JOIN, id, name]: a player was added (the game's addPlayer)
export const OP_LEAVE = 2; // [at, OP_LEAVE, id]: a player was removed
export const OP_PLACE = 3; // [at, OP_PLACE, id, x, y]: the authority put a player where its late inputs had taken it
export type ReplayOp = [at: number, kind: number, id: number, a?: string | number, b?: number];

/** Where each column stood when a keyframe was taken: the first entry of step `at`. */
export interface ReplayCursor {
  counts: number;
  inputs: number;
  ops: number;
  seen: number;
}

export interface Keyframe {
  /** Steps done before this state (0 = the start). */
  at: number;
  world: unknown;
  /** The positions of earlier ticks that shots after this state rewind to (lag compensation). */
  rewind: RewindTick[];
  /** The last aim and buttons recorded per player id (inputs are stored as changes from them). */
  last: [id: number, aim: number, buttons: number][];
  cursor: ReplayCursor;
}

export interface ReplaySummary {
  id: string;
  room: string;
  instance: string;
  tickRate: number;
  /** ms since the epoch. */
  startedAt: number;
  endedAt: number;
  /** round_end | closed | moved | limit | restored. */
  reason: string;
  round: number;
  /** The world tick the recording starts at, and the steps in it. */
  startTick: number;
  steps: number;
  /** Everyone who played in it, in order of appearance. */
  players: [id: number, name: string][];
}

export interface Recording extends ReplaySummary {
  format: typeof REPLAY_FORMAT;
  version: number;
  keyframeEvery: number; // steps
  start: Keyframe;
  keyframes: Keyframe[];
  ops: ReplayOp[];
  /** Per step, per player in the state's order: how many inputs the step consumed. */
  counts: Uint8Array;
  /** Per input: the buttons XOR that player's previous ones (a held button reads 0), in memory; the file holds its bit planes. */
  buttons: Uint8Array;
  /** Per input: the aim's delta from that player's previous one (mod 65536), low bytes (first half) then high bytes. */
  aims: Uint8Array;
  /** Per step: how many shots asked where their shooter saw the others (pairs in `seen`). */
  shots: Uint8Array;
  /**
   * Flat [shooter, lag] per such shot: the others as of `lag` ticks before the step's
   * state (0 = that state, from the rewind buffer), or -1: as they stood, not rewound.
   */
  seen: number[];
  /** The state's checksum after each step, uint32 little-endian. */
  sums: Uint8Array;
}

const encoder = new Encoder({ ignoreUndefined: true });
const LIMIT = 64 << 20; // bytes of any one run: far above any match the recorder keeps
const decoder = new Decoder({ maxStrLength: 1 << 16, maxBinLength: LIMIT, maxArrayLength: LIMIT, maxMapLength: 256, maxExtLength: 0 });

/** Bit `b` of every byte of `bytes`, 8 to a byte, plane after plane. */
function toPlanes(bytes: Uint8Array): Uint8Array {
  const w = (bytes.length + 7) >> 3;
  const out = new Uint8Array(w * 8);
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i];
    for (let b = 0; v >> b; b++) if ((v >> b) & 1) out[b * w + (i >> 3)] |= 1 << (i & 7);
  }
  return out;
}

function fromPlanes(planes: Uint8Array, n: number): Uint8Array {
  const w = (n + 7) >> 3;
  const out = new Uint8Array(n);
  for (let b = 0; b < 8; b++) {
    for (let j = 0; j < w; j++) {
      let bits = planes[b * w + j];
      while (bits) {
        const k = 31 - Math.clz32(bits & -bits);
        out[j * 8 + k] |= 1 << b;
        bits &= bits - 1;
      }
    }
  }
  return out;
}

export const encodeReplay = (r: Recording): Uint8Array => {
  const { buttons, ...rest } = r;
  return encoder.encode({ ...rest, inputs: buttons.length, buttonPlanes: toPlanes(buttons) });
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

class Bad extends Error {}
const need = (ok: boolean, why: string): void => {
  if (!ok) throw new Bad(why);
};

function cursor(v: unknown, path: string): ReplayCursor {
  need(isObj(v), `${path}: expected an object`);
  const o = v as Obj;
  for (const k of ['counts', 'inputs', 'ops', 'seen']) need(isInt(o[k]), `${path}.${k}: expected a count`);
  return { counts: o.counts as number, inputs: o.inputs as number, ops: o.ops as number, seen: o.seen as number };
}

function keyframe(v: unknown, path: string): Keyframe {
  need(isObj(v), `${path}: expected an object`);
  const o = v as Obj;
  need(isInt(o.at), `${path}.at: expected a step index`);
  need(isObj(o.world), `${path}.world: expected an object`);
  need(Array.isArray(o.rewind) && o.rewind.every((t) => Array.isArray(t) && t.length === 4 && isInt(t[0])
    && [1, 2, 3].every((i) => Array.isArray(t[i]) && t[i].length === t[1].length && t[i].every((n: unknown) => typeof n === 'number'))),
  `${path}.rewind: expected [tick, ids, xs, ys] entries`);
  need(Array.isArray(o.last) && o.last.every((a) => Array.isArray(a) && a.length === 3 && isInt(a[0]) && isInt(a[1], 0, 65535) && isInt(a[2], 0, 255)),
    `${path}.last: expected [id, aim, buttons] entries`);
  return {
    at: o.at as number, world: o.world, rewind: o.rewind as RewindTick[], last: o.last as [number, number, number][], cursor: cursor(o.cursor, `${path}.cursor`),
  };
}

function check(v: unknown): Recording {
  need(isObj(v), 'not a replay (expected a map)');
  const o = v as Obj;
  need(o.format === REPLAY_FORMAT, `not a replay (format ${JSON.stringify(o.format)})`);
  need(o.version === REPLAY_VERSION, `replay version ${JSON.stringify(o.version)} not supported (this build reads ${REPLAY_VERSION})`);
  for (const k of ['id', 'room', 'instance', 'reason']) need(typeof o[k] === 'string', `${k}: expected a string`);
  for (const k of ['startedAt', 'endedAt', 'startTick', 'steps', 'round']) need(isInt(o[k]), `${k}: expected a whole number`);
  need(isInt(o.tickRate, 1, 1000), 'tickRate: expected 1-1000');
  need(isInt(o.keyframeEvery, 1), 'keyframeEvery: expected a step count');
  need(Array.isArray(o.players) && o.players.every((p) => Array.isArray(p) && isInt(p[0], 1) && typeof p[1] === 'string'),
    'players: expected [id, name] pairs');
  for (const k of ['counts', 'buttonPlanes', 'aims', 'sums', 'shots']) need(o[k] instanceof Uint8Array, `${k}: expected bytes`);
  need(isInt(o.inputs), 'inputs: expected a count');
  need((o.buttonPlanes as Uint8Array).length === ((o.inputs as number) + 7 >> 3) * 8, 'buttonPlanes: not 8 planes of the inputs');
  o.buttons = fromPlanes(o.buttonPlanes as Uint8Array, o.inputs as number);
  delete o.buttonPlanes;
  delete o.inputs;
  const steps = o.steps as number;
  need((o.sums as Uint8Array).length === steps * 4, `sums: ${(o.sums as Uint8Array).length} bytes for ${steps} steps`);
  need((o.shots as Uint8Array).length === steps, `shots: ${(o.shots as Uint8Array).length} counts for ${steps} steps`);
  need((o.aims as Uint8Array).length === (o.buttons as Uint8Array).length * 2, 'aims: not two bytes per input');
  let inputs = 0;
  for (const c of o.counts as Uint8Array) inputs += c;
  need(inputs === (o.buttons as Uint8Array).length, `counts: add up to ${inputs} inputs, ${(o.buttons as Uint8Array).length} recorded`);
  need(Array.isArray(o.ops), 'ops: expected a list');
  let last = 0;
  for (const [i, op] of (o.ops as unknown[]).entries()) {
    const p = `ops[${i}]`;
    need(Array.isArray(op) && isInt(op[0], last, steps) && isInt(op[2], 1), `${p}: expected [at, kind, id, …] in step order`);
    const [at, kind] = op as unknown[];
    const args = op as unknown[];
    last = at as number;
    if (kind === OP_JOIN) need(typeof args[3] === 'string', `${p}: a join without a name`);
    else if (kind === OP_PLACE) need(typeof args[3] === 'number' && typeof args[4] === 'number', `${p}: a placement without x, y`);
    else need(kind === OP_LEAVE, `${p}: unknown op ${JSON.stringify(kind)}`);
  }
  let shots = 0;
  for (const c of o.shots as Uint8Array) shots += c;
  need(Array.isArray(o.seen) && o.seen.length === shots * 2 && o.seen.every((n) => isInt(n, -1)), `seen: expected ${shots} [shooter, lag] pairs`);
  const start = keyframe(o.start, 'start');
  need(start.at === 0, 'start.at: not 0');
  need(Array.isArray(o.keyframes), 'keyframes: expected a list');
  const keyframes = (o.keyframes as unknown[]).map((k, i) => keyframe(k, `keyframes[${i}]`));
  for (let i = 0; i < keyframes.length; i++) {
    need(keyframes[i].at > (i ? keyframes[i - 1].at : 0) && keyframes[i].at <= steps, `keyframes[${i}].at: out of order`);
  }
  return o as unknown as Recording;
}

/** The recording in `bytes` (uncompressed msgpack), checked; or why it is not one. */
export function decodeReplay(bytes: Uint8Array): { ok: true; rec: Recording } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = decoder.decode(bytes);
  } catch (err) {
    return { ok: false, reason: `not msgpack: ${(err as Error).message.slice(0, 80)}` };
  }
  try {
    return { ok: true, rec: check(v) };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, reason: err.message };
    throw err;
  }
}

/** The state checksum recorded after step `i`. */
export const sumAt = (r: Recording, i: number): number =>
  (r.sums[i * 4] | (r.sums[i * 4 + 1] << 8) | (r.sums[i * 4 + 2] << 16) | (r.sums[i * 4 + 3] << 24)) >>> 0;

/** The aim delta of input `i` (see Recording.aims). */
export const aimDeltaAt = (r: Recording, i: number): number => r.aims[i] | (r.aims[r.buttons.length + i] << 8);

/** The fields of a recording that /api/replays lists. */
export function summaryOf(r: ReplaySummary): ReplaySummary {
  const { id, room, instance, tickRate, startedAt, endedAt, reason, round, startTick, steps, players } = r;
  return { id, room, instance, tickRate, startedAt, endedAt, reason, round, startTick, steps, players };
}
