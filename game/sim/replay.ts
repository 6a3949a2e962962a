/**
 * Runs a recorded match again with the arena's own step function: what the replay
 * viewer draws and what `npm run replay:verify` checks. Pure, like the rest of
 * game/sim: the recording in, worlds out.
 *
 * A step is replayed as the server ran it: seats taken and left since the step
 * before, then placements, then `step` with each player's recorded inputs and,
 * for a shot, the others where its shooter saw them (the rewind tick recorded,
 * looked up in a RewindBuffer kept here as the server keeps its own).
 */
import { aimDeltaAt, type Keyframe, OP_JOIN, OP_LEAVE, OP_PLACE, type Recording, sumAt } from '../../netcode/replay.ts';
import { RewindBuffer } from '../../netcode/rewind.ts';
import { worldChecksum, worldDiff } from './checksum.ts';
import { MAX_REWIND } from './constants.ts';
import { parseWorld } from './persist.ts';
import { addPlayer, type Input, placePlayer, removePlayer, type World } from './state.ts';
import { type RewoundPositions, step } from './step.ts';

export interface Divergence {
  /** The world tick whose state first differs from the recording, and the step that produced it. */
  tick: number;
  step: number;
  recorded: number;
  resimulated: number;
  /** The first entity and field that differ, at keyframe tick `diffTick` (the first keyframe at or after `tick`). */
  diff: string | null;
  diffTick: number | null;
}

export type VerifyResult = { ok: true; steps: number } | { ok: false; steps: number; divergence: Divergence };

export class Replay {
  readonly steps: number;
  readonly dt: number;
  /** Every player of the match, by id. */
  readonly names = new Map<number, string>();
  /** The state after `at` steps. */
  world!: World;
  at = 0;
  private readonly rewind: RewindBuffer;
  private lastAim = new Map<number, number>();
  private lastButtons = new Map<number, number>();
  private ci = 0; // cursors into counts, inputs, ops, seen
  private ii = 0;
  private oi = 0;
  private si = 0;
  private readonly inputs = new Map<number, Input | readonly Input[]>();
  private readonly seen = new Map<number, number>();
  private before!: World; // this step's state before placements: what "now" means to lag compensation

  constructor(readonly rec: Recording) {
    this.steps = rec.steps;
    this.dt = 1 / rec.tickRate;
    this.rewind = new RewindBuffer(Math.ceil(MAX_REWIND * rec.tickRate) + 1);
    for (const [id, name] of rec.players) this.names.set(id, name);
    this.load(rec.start);
  }

  /** Where the next step reads its first input count and input. */
  get cursor(): { counts: number; inputs: number } {
    return { counts: this.ci, inputs: this.ii };
  }

  /** The world tick after `at` steps. */
  tickAt(at: number): number {
    return this.rec.startTick + at;
  }

  private load(k: Keyframe): void {
    this.world = parseWorld(k.world, `keyframe ${k.at}`);
    this.rewind.clear();
    this.rewind.load(k.rewind);
    this.rewind.record(this.world.tick, this.world.players); // the server's buffer held this state's tick too
    this.lastAim = new Map(k.last.map(([id, aim]) => [id, aim]));
    this.lastButtons = new Map(k.last.map(([id, , buttons]) => [id, buttons]));
    this.at = k.at;
    ({ counts: this.ci, inputs: this.ii, ops: this.oi, seen: this.si } = k.cursor);
  }

  /** Goes to the state after `at` steps (clamped): from the nearest keyframe at or before it. */
  seek(at: number): World {
    const target = Math.max(0, Math.min(this.steps, Math.floor(at)));
    if (target < this.at || target - this.at > this.rec.keyframeEvery) {
      let k = this.rec.start;
      for (const f of this.rec.keyframes) if (f.at <= target) k = f;
      if (k.at > this.at || target < this.at) this.load(k);
    }
    while (this.at < target) this.next();
    return this.world;
  }

  /** Replays one step; returns the new world (the last one again at the end). */
  next(): World {
    if (this.at >= this.steps) return this.world;
    const r = this.rec;
    const at = this.at;
    let world = this.world;
    let before: World | null = null;
    for (; this.oi < r.ops.length && r.ops[this.oi][0] === at; this.oi++) {
      const [, kind, id, a, b] = r.ops[this.oi];
      if (kind === OP_JOIN) {
        const added = addPlayer(world);
        world = added.world;
        if (added.id !== id) throw new Error(`step ${at}: a join re-simulated as player ${added.id}, recorded as ${id}`);
        if (!this.names.has(id)) this.names.set(id, a as string);
      } else if (kind === OP_LEAVE) {
        world = removePlayer(world, id);
        this.inputs.delete(id);
      } else if (kind === OP_PLACE) {
        before ??= world;
        world = placePlayer(world, id, a as number, b as number);
      }
    }
    this.before = before ?? world;
    for (const p of world.players) {
      const n = r.counts[this.ci++];
      let list: Input[] | Input = [];
      for (let j = 0; j < n; j++) {
        const aim = ((this.lastAim.get(p.id) ?? 0) + aimDeltaAt(r, this.ii)) & 0xffff;
        this.lastAim.set(p.id, aim);
        const buttons = r.buttons[this.ii++] ^ (this.lastButtons.get(p.id) ?? 0);
        this.lastButtons.set(p.id, buttons);
        const input = { buttons, aim };
        if (n === 1) list = input;
        else (list as Input[]).push(input);
      }
      this.inputs.set(p.id, list);
    }
    this.seen.clear();
    for (let n = r.shots[at]; n > 0; n--, this.si += 2) {
      const lag = r.seen[this.si + 1];
      this.seen.set(r.seen[this.si], lag < 0 ? -1 : world.tick - lag);
    }
    this.world = step(world, this.inputs, this.dt, this.stepOptions);
    this.rewind.record(this.world.tick, this.world.players);
    this.at++;
    return this.world;
  }

  private readonly stepOptions = { rewind: { get: (shooter: number) => this.seenBy(shooter) } };

  private seenBy(shooter: number): RewoundPositions | undefined {
    const tick = this.seen.get(shooter);
    if (tick === undefined) return undefined;
    if (tick >= 0) return this.rewind.at(tick, shooter);
    const now = new Map<number, { x: number; y: number }>();
    for (const o of this.before.players) if (o.id !== shooter) now.set(o.id, { x: o.x, y: o.y });
    return now;
  }

  /** The state after `at` steps as recorded in a keyframe, if one was taken there. */
  keyframeAt(at: number): World | undefined {
    const k = this.rec.keyframes.find((f) => f.at === at);
    return k ? parseWorld(k.world, `keyframe ${at}`) : undefined;
  }

  /**
   * Re-simulates the whole match from its start and compares every recorded checksum.
   * At the first mismatch it runs on to the next keyframe and names the first entity
   * and field that differ there.
   */
  verify(): VerifyResult {
    this.load(this.rec.start);
    while (this.at < this.steps) {
      const world = this.next();
      const recorded = sumAt(this.rec, this.at - 1);
      const got = worldChecksum(world);
      if (got === recorded) continue;
      const divergence: Divergence = { tick: world.tick, step: this.at - 1, recorded, resimulated: got, diff: null, diffTick: null };
      const k = this.rec.keyframes.find((f) => f.at >= this.at);
      if (k) {
        try {
          this.seek(k.at);
          const want = parseWorld(k.world, `keyframe ${k.at}`);
          divergence.diff = worldDiff(want, this.world);
          divergence.diffTick = want.tick;
        } catch (err) {
          divergence.diff = (err as Error).message;
        }
      }
      return { ok: false, steps: this.at, divergence };
    }
    return { ok: true, steps: this.at };
  }
}
