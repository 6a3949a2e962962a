/**
 * Per-player input queue of the authority: every input is applied at most once,
 * in sequence order.
 *
 * Speed is bounded by a step credit, not by the message rate: each tick adds
 * one step (plus CREDIT_SLACK, so a client whose clock runs slightly fast does
 * not build a backlog), capped at `maxPerTick` so a player can catch up after
 * a stall but never move faster than the tick on average. Sending three inputs
 * a tick buys nothing: the extras wait in the queue, then are refused.
 *
 * When a tick finds the queue empty (jitter, a stall), the latest input is reused
 * as a *guess* for up to `reuseTicks` ticks so the player keeps moving for
 * everyone else. The guess does not consume a sequence number: the position
 * before it (the anchor) is kept, and when the real inputs arrive the player's
 * movement over the guessed steps is re-simulated from the anchor with them.
 * Movement depends only on the player's own inputs and the static map, so the
 * re-simulation is exact. The owner is told the anchor while guesses are
 * outstanding, so its reconciliation (state at lastSeq + replay) stays exact.
 */
import { BTN_ALL, BTN_FIRE, type Input, movePlayer } from '../game/sim/index.ts';
import type { InputFrame } from '../netcode/protocol.ts';

/** Extra steps per tick a client may take: absorbs a client clock up to ~3 % fast, and is all a cheater gains. */
export const CREDIT_SLACK = 1 / 32;

export interface Pos {
  x: number;
  y: number;
}

export interface TickPlan {
  /** Inputs for this step, in order (each one dt of movement). */
  inputs: readonly Input[];
  /** The player's position rewritten before the step (guesses replaced by real inputs). */
  setPos: Pos | undefined;
}

/**
 * A fixed-capacity FIFO of inputs, one typed array with four numbers per entry
 * (seq, buttons, aim, receive time): no object per input, and an input's fields
 * share a cache line. A server touches 500 of these between two messages of one
 * client, so the fewer lines per message the better.
 */
class InputRing {
  private readonly e: Float64Array;
  private head = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.e = new Float64Array(capacity * 4);
  }

  push(seq: number, buttons: number, aim: number, at: number): void {
    const o = ((this.head + this.length++) % this.capacity) * 4;
    this.e[o] = seq;
    this.e[o + 1] = buttons;
    this.e[o + 2] = aim;
    this.e[o + 3] = at;
  }

  /** Slot of the oldest entry, which `shift` then drops. */
  get first(): number {
    return this.head;
  }

  /*
   * Integers come back as small integers (`| 0`), so the fields they are stored in stay
   * untagged-integer fields: a double field is a separate heap box in V8, one more
   * cache miss on every message (seen in `perf annotate` as the hot spot of `offer`).
   */
  seq(slot: number): number {
    const s = this.e[slot * 4];
    return s < 0x40000000 ? s | 0 : s; // seqs past 2^30 (years of play) stay exact as doubles
  }

  buttons(slot: number): number {
    return this.e[slot * 4 + 1] | 0;
  }

  aim(slot: number): number {
    return this.e[slot * 4 + 2] | 0;
  }

  at(slot: number): number {
    return this.e[slot * 4 + 3];
  }

  shift(): void {
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.length--;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }
}

export class InputQueue {
  private readonly queue: InputRing;
  /** Receive times (ms) of the real inputs applied by the last `plan` (the first `appliedCount`), for input-to-ack latency. */
  readonly appliedAt: Float64Array;
  appliedCount = 0;
  /** Last real input seq applied. */
  lastSeq = 0;
  /** Highest seq accepted. */
  private highSeq = 0;
  private lastButtons = 0;
  private lastAim = 0;
  private guessed = 0;
  /** Position after the last real input, while guesses are outstanding. */
  anchor: Pos | null = null;
  private anchorLife = -1;
  /** Inputs refused because the queue was full (a client sending faster than the tick). */
  refused = 0;
  /** Steps this player may still take, in 1/32 steps (see the credit rule above; an integer: no heap box). */
  private credit32 = 0;
  /**
   * The plan's inputs are objects reused from tick to tick: `slots[i]`, and
   * `firstN[n]` lists the first n of them, so a plan allocates nothing.
   */
  private readonly slots: Input[] = [];
  private readonly firstN: Input[][] = [[]];
  private readonly result: TickPlan = { inputs: this.firstN[0], setPos: undefined };

  constructor(private readonly opts: { limit: number; maxPerTick: number; reuseTicks: number }) {
    this.queue = new InputRing(opts.limit);
    this.appliedAt = new Float64Array(opts.limit);
  }

  /**
   * A (re)joined client continues at lastSeq + 1 and resends what it has not seen
   * applied, so inputs queued for the old socket are dropped rather than doubled.
   */
  rejoin(): void {
    this.queue.clear();
    this.highSeq = this.lastSeq;
  }

  /** Accepts new inputs (seq above all seen), clamping values; returns how many were taken. */
  push(frames: readonly InputFrame[], now: number): number {
    let taken = 0;
    for (const f of frames) {
      const r = this.offer(f.seq, f.buttons, f.aim, now);
      if (r < 0) break;
      taken += r;
    }
    return taken;
  }

  /**
   * One input: 1 when taken, 0 when a redundant copy of one already held or
   * applied, -1 when the queue is full (the client resends it next message).
   */
  offer(seq: number, buttons: number, aim: number, now: number): number {
    if (seq <= this.highSeq) return 0;
    if (this.queue.length >= this.opts.limit) {
      this.refused++;
      return -1;
    }
    this.queue.push(seq, buttons & BTN_ALL, aim & 0xffff, now);
    this.highSeq = seq;
    return 1;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Takes the oldest queued input as applied: its seq, its receive time, and it becomes the one a guess repeats. */
  private take(): number {
    const q = this.queue;
    const i = q.first;
    this.lastSeq = q.seq(i);
    this.lastButtons = q.buttons(i);
    this.lastAim = q.aim(i);
    this.appliedAt[this.appliedCount++] = q.at(i);
    q.shift();
    return i;
  }

  /**
   * Inputs for the next step of a player standing at `pos`. `life` identifies the
   * player's current life (round and death count): guesses never survive a
   * teleport. `canGuess` is false while the player is disconnected or dead.
   * The returned inputs are valid until the next call.
   */
  plan(pos: Pos, life: number, canGuess: boolean, dt: number): TickPlan {
    let setPos: Pos | undefined;
    let fire = 0;
    const q = this.queue;
    this.appliedCount = 0;
    this.credit32 = Math.min(this.opts.maxPerTick * 32, this.credit32 + 32 + CREDIT_SLACK * 32);
    if (this.guessed > 0 && q.length > 0) {
      const valid = this.anchor !== null && this.anchorLife === life;
      const k = Math.min(this.guessed, q.length);
      let p: Pos = this.anchor ?? pos;
      for (let j = 0; j < k; j++) {
        const b = q.buttons(this.take());
        if (valid) p = movePlayer(p.x, p.y, b, dt);
        fire |= b & BTN_FIRE;
      }
      this.guessed -= k;
      if (valid) {
        this.anchor = this.guessed > 0 ? p : null;
        for (let i = 0; i < this.guessed; i++) p = movePlayer(p.x, p.y, this.lastButtons, dt);
        if (p.x !== pos.x || p.y !== pos.y) setPos = p;
      } else {
        this.guessed = 0;
        this.anchor = null;
      }
    }
    // Real inputs that replaced guesses above cost nothing: their steps were paid for when guessed.
    let n = 0;
    const real = Math.min(q.length, this.credit32 >> 5);
    this.credit32 -= real * 32;
    for (let j = 0; j < real; j++) {
      const i = this.take();
      this.input(n++, q.buttons(i) | fire, q.aim(i));
      fire = 0;
    }
    if (n === 0) {
      if (fire) this.input(n++, fire, this.lastAim); // a shot from a late input is not lost
      else if (canGuess && this.lastSeq > 0 && this.guessed < this.opts.reuseTicks && this.credit32 >= 32 && q.length === 0) {
        if (this.guessed === 0) {
          this.anchor = setPos ?? pos;
          this.anchorLife = life;
        }
        this.guessed++;
        this.credit32 -= 32;
        // Never guess a shot: it could not be taken back. A real one arriving later still fires.
        this.input(n++, this.lastButtons & ~BTN_FIRE, this.lastAim);
      }
    }
    if (!canGuess && this.guessed > 0) {
      this.guessed = 0; // the dropped or dead player's guessed steps stand; no anchor left to report
      this.anchor = null;
    }
    this.result.inputs = this.firstN[n];
    this.result.setPos = setPos;
    return this.result;
  }

  private input(n: number, buttons: number, aim: number): void {
    const slot = this.slots[n];
    if (slot) {
      slot.buttons = buttons;
      slot.aim = aim;
    } else {
      this.slots[n] = { buttons, aim };
      this.firstN[n + 1] = this.slots.slice(0, n + 1);
    }
  }
}
