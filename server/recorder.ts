/**
 * A room's match being recorded (the format: netcode/replay.ts). The room tells it,
 * as they happen, the seats taken and left, each player's inputs of a step in the
 * order the step reads them, placements, and the ticks shooters saw; after each step
 * it keeps the state's checksum and, every REPLAY_KEYFRAME_S, a keyframe. Per step
 * that is a few bytes appended to growable arrays: no allocation in the common case.
 *
 * `finish` closes the recording (a round ended, the room closed or moved, or it
 * reached REPLAY_MAX_KB) and returns it; the room then starts the next one from the
 * state of that moment, so a match that runs on is split, not cut.
 */
import type { Input, World } from '../game/sim/index.ts';
import { worldChecksum } from '../game/sim/checksum.ts';
import {
  type Keyframe, OP_JOIN, OP_LEAVE, OP_PLACE, REPLAY_FORMAT, REPLAY_VERSION, type Recording, type ReplayOp,
} from '../netcode/replay.ts';
import type { RewindBuffer } from '../netcode/rewind.ts';

/** A byte run that grows by doubling. */
class Bytes {
  data = new Uint8Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Uint8Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  take(): Uint8Array {
    return this.data.slice(0, this.length);
  }
}

export interface RecorderOptions {
  id: string;
  room: string;
  instance: string;
  tickRate: number;
  keyframeEvery: number; // steps
  maxBytes: number;
  world: World;
  names: ReadonlyMap<number, string>;
  rewind: RewindBuffer;
  startedAt: number; // ms since the epoch
}

export class MatchRecorder {
  private readonly o: RecorderOptions;
  private steps = 0;
  private readonly counts = new Bytes();
  private readonly buttons = new Bytes();
  private readonly aimLo = new Bytes();
  private readonly aimHi = new Bytes();
  private readonly sums = new Bytes();
  private readonly shots = new Bytes();
  private shotsNow = 0; // this step's entries in `seen`
  private readonly ops: ReplayOp[] = [];
  private readonly seen: number[] = [];
  private readonly keyframes: Keyframe[] = [];
  private readonly start: Keyframe;
  private readonly lastAim = new Map<number, number>();
  private readonly lastButtons = new Map<number, number>();
  /** Everyone seen, in order of appearance. */
  private readonly players = new Map<number, string>();
  private keyframeBytes = 0;

  constructor(opts: RecorderOptions) {
    this.o = opts;
    for (const p of opts.world.players) this.players.set(p.id, opts.names.get(p.id) ?? `Player ${p.id}`);
    this.start = this.keyframe(opts.world);
  }

  get stepCount(): number {
    return this.steps;
  }

  /** Bytes held so far (before compression), against REPLAY_MAX_KB. */
  get size(): number {
    return this.counts.length + this.buttons.length * 3 + this.sums.length + this.shots.length + this.keyframeBytes + this.ops.length * 16
      + this.seen.length * 2;
  }

  /** Past REPLAY_MAX_KB (looked at every 32 steps: it need not be exact to the step). */
  get full(): boolean {
    return (this.steps & 31) === 0 && this.size >= this.o.maxBytes;
  }

  join(id: number, name: string): void {
    this.ops.push([this.steps, OP_JOIN, id, name]);
    if (!this.players.has(id)) this.players.set(id, name);
  }

  leave(id: number): void {
    this.ops.push([this.steps, OP_LEAVE, id]);
  }

  place(id: number, x: number, y: number): void {
    this.ops.push([this.steps, OP_PLACE, id, x, y]);
  }

  /** The inputs the coming step gives player `id` (call for every player, in the state's order). */
  inputs(id: number, given: Input | readonly Input[]): void {
    if (Array.isArray(given)) {
      this.counts.push(given.length);
      for (const i of given) this.input(id, i);
    } else {
      this.counts.push(1);
      this.input(id, given as Input);
    }
  }

  private input(id: number, i: Input): void {
    this.buttons.push(i.buttons ^ (this.lastButtons.get(id) ?? 0));
    this.lastButtons.set(id, i.buttons);
    const d = (i.aim - (this.lastAim.get(id) ?? 0)) & 0xffff;
    this.lastAim.set(id, i.aim);
    this.aimLo.push(d & 0xff);
    this.aimHi.push(d >> 8);
  }

  /** The coming step's shooter `shooter` saw the others as of `tick` (-1: as they are now, not rewound). */
  saw(shooter: number, tick: number): void {
    const now = this.o.world.tick + this.steps; // the state the coming step starts from
    this.seen.push(shooter, tick < 0 ? -1 : now - tick);
    this.shotsNow++;
    if (tick < 0) return;
    // A keyframe shortly before needs that tick's positions to replay this shot after a seek.
    for (let i = this.keyframes.length - 1; i >= -1; i--) {
      const k = i < 0 ? this.start : this.keyframes[i];
      const kTick = this.o.world.tick + k.at;
      if (kTick <= tick) break;
      if (!k.rewind.some((r) => r[0] === tick)) {
        const held = this.o.rewind.get(tick);
        if (held) k.rewind.push(held);
      }
    }
  }

  /** A step produced `world` (the rewind buffer already holds its tick). */
  stepped(world: World): void {
    this.steps++;
    this.shots.push(this.shotsNow);
    this.shotsNow = 0;
    const h = worldChecksum(world);
    this.sums.push(h & 0xff);
    this.sums.push((h >>> 8) & 0xff);
    this.sums.push((h >>> 16) & 0xff);
    this.sums.push(h >>> 24);
    if (this.steps % this.o.keyframeEvery === 0) this.keyframes.push(this.keyframe(world));
  }

  private keyframe(world: World): Keyframe {
    const { events: _, ...state } = world;
    const k: Keyframe = {
      at: this.steps,
      world: state,
      rewind: [], // filled by `saw` with the earlier ticks the shots after it rewind to
      last: [...this.lastAim].map(([id, aim]) => [id, aim, this.lastButtons.get(id) ?? 0]),
      cursor: { counts: this.counts.length, inputs: this.buttons.length, ops: this.ops.length, seen: this.seen.length },
    };
    // A rough size: the entities' numbers and the rewind ticks (for REPLAY_MAX_KB, not exact).
    this.keyframeBytes += 64 + (world.players.length * 11 + world.npcs.length * 6 + world.shots.length * 8) * 5;
    return k;
  }

  /** The recording so far, closed for `reason`; `world` is the state after the last step (a last keyframe, for verify's diff). */
  finish(reason: string, round: number, endedAt: number, world: World): Recording {
    const last = this.keyframes.at(-1)?.at ?? 0;
    if (this.steps > last) this.keyframes.push(this.keyframe(world));
    const buttons = this.buttons.take();
    const aims = new Uint8Array(buttons.length * 2);
    aims.set(this.aimLo.data.subarray(0, this.aimLo.length));
    aims.set(this.aimHi.data.subarray(0, this.aimHi.length), buttons.length);
    return {
      format: REPLAY_FORMAT, version: REPLAY_VERSION, id: this.o.id, room: this.o.room, instance: this.o.instance,
      tickRate: this.o.tickRate, startedAt: Math.round(this.o.startedAt), endedAt: Math.round(endedAt), reason, round, startTick: this.o.world.tick,
      steps: this.steps, players: [...this.players], keyframeEvery: this.o.keyframeEvery, start: this.start,
      keyframes: this.keyframes, ops: this.ops, counts: this.counts.take(), buttons, aims, shots: this.shots.take(), seen: this.seen,
      sums: this.sums.take(),
    };
  }
}
