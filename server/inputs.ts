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

const NO_INPUTS: readonly Input[] = [];
/** The plan object of every `plan` call given an `out`. */
const SHARED_PLAN: TickPlan = { inputs: NO_INPUTS, one: undefined, setPos: undefined };

/** Extra steps per tick a client may take: absorbs a client clock up to ~3 % fast, and is all a cheater gains. */
export const CREDIT_SLACK = 1 / 32;

export interface Pos {
  x: number;
  y: number;
}

export interface TickPlan {
  /** Inputs for this step, in order (each one dt of movement); empty when `one` holds the only one. */
  inputs: readonly Input[];
  /** The step's only input, written into the caller's `out` (see `plan`); undefined otherwise. */
  one: Input | undefined;
  /** The player's position rewritten before the step (guesses replaced by real inputs). */
  setPos: Pos | undefined;
}

/** Receive times (ms) of the real inputs applied, appended by `plan`: a room's queues share one, which it empties every step. */
export interface AppliedLog {
  at: number[];
  count: number;
}

/** Where a queue keeps its numbers: `queueNumbers(limit)` doubles of `data` from `offset` (part of a seat table's row). */
export interface InputStore {
  data: Float64Array;
  offset: number;
}

/** Doubles per queued input: seq, buttons, aim, receive time. */
export const INPUT_NUMBERS = 4;
/** The queue's counters, first in its store: the oldest entry's slot, the entries held, the highest seq accepted. */
const HEAD = 0;
const LENGTH = 1;
const HIGH_SEQ = 2;
const HEADER = 3;
/** Doubles a queue of `limit` entries keeps in its store. */
export const queueNumbers = (limit: number): number => HEADER + limit * INPUT_NUMBERS;

/**
 * `InputQueue.offer` on the queue's numbers alone, from `at` in `e`: the server's message
 * path calls it with the seat's row, so a message touches no queue object. 1 when taken,
 * 0 when a redundant copy of one already held or applied, -1 when the queue is full.
 */
export function offerAt(e: Float64Array, at: number, limit: number, seq: number, buttons: number, aim: number, now: number): number {
  if (seq <= e[at + HIGH_SEQ]) return 0;
  const length = e[at + LENGTH] | 0; // counters come back as small integers: integer arithmetic, not fmod
  if (length >= limit) return -1;
  const o = at + HEADER + (((e[at + HEAD] | 0) + length) % limit) * INPUT_NUMBERS;
  e[o] = seq;
  e[o + 1] = buttons & BTN_ALL;
  e[o + 2] = aim & 0xffff;
  e[o + 3] = now;
  e[at + LENGTH] = length + 1;
  e[at + HIGH_SEQ] = seq;
  return 1;
}

/*
 * The queue is a fixed-capacity FIFO of numbers, four per entry (seq, buttons,
 * aim, receive time), after three counters: no object per input, and an input's
 * fields share a cache line. In a server they live in the room's seat table
 * (seats.ts), not in an array of the queue's own, which would cost three cold
 * cache lines per message instead of one; with the counters there too, a message
 * (`offerAt`) needs no queue object at all.
 */
export class InputQueue {
  private readonly e: Float64Array;
  private readonly at: number; // offset of the counters in `e`
  private readonly base: number; // offset of entry 0 in `e`
  // The options are copied into the queue: reading them through an object of their own is one more cold line a tick.
  private readonly limit: number;
  private readonly maxPerTick: number;
  private readonly reuseTicks: number;
  /**
   * Where `plan` logs the receive times of the real inputs it applies (input-to-ack
   * latency). A shared log is emptied by its owner; the queue's own log holds the
   * last plan's.
   */
  readonly applied: AppliedLog;
  private readonly ownLog: boolean;
  /** Last real input seq applied. */
  lastSeq = 0;
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
  private readonly result: TickPlan = { inputs: this.firstN[0], one: undefined, setPos: undefined };
  /** The plan's first input, kept in the queue until it is known whether it is the only one. */
  private firstButtons = 0;
  private firstAim = 0;

  /** Without a store the queue has an array of its own; without a log, a log of its own. */
  constructor(
    opts: { limit: number; maxPerTick: number; reuseTicks: number },
    store?: InputStore,
    applied?: AppliedLog,
  ) {
    this.limit = opts.limit;
    this.maxPerTick = opts.maxPerTick;
    this.reuseTicks = opts.reuseTicks;
    this.e = store?.data ?? new Float64Array(queueNumbers(opts.limit));
    this.at = store?.offset ?? 0;
    this.base = this.at + HEADER;
    if (this.at + queueNumbers(opts.limit) > this.e.length) throw new RangeError('input store too small for the queue');
    this.applied = applied ?? { at: [], count: 0 };
    this.ownLog = applied === undefined;
  }

  /**
   * A (re)joined client continues at lastSeq + 1 and resends what it has not seen
   * applied, so inputs queued for the old socket are dropped rather than doubled.
   */
  rejoin(): void {
    this.e[this.at + HEAD] = 0;
    this.e[this.at + LENGTH] = 0;
    this.e[this.at + HIGH_SEQ] = this.lastSeq;
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
    const r = offerAt(this.e, this.at, this.limit, seq, buttons, aim, now);
    if (r < 0) this.refused++;
    return r;
  }

  get pending(): number {
    return this.length;
  }

  /** Entries held (in the store, like the head: `offerAt` moves them without this object). */
  private get length(): number {
    return this.e[this.at + LENGTH] | 0;
  }

  /*
   * Integers come back as small integers (`| 0`), so the fields they are stored in stay
   * untagged-integer fields: a double field is a separate heap box in V8, one more
   * cache miss on every message (seen in `perf annotate` as the hot spot of `offer`).
   */
  private buttonsAt(slot: number): number {
    return this.e[this.base + slot * INPUT_NUMBERS + 1] | 0;
  }

  private aimAt(slot: number): number {
    return this.e[this.base + slot * INPUT_NUMBERS + 2] | 0;
  }

  /** Takes the oldest queued input as applied: its seq, its receive time, and it becomes the one a guess repeats. Returns its slot. */
  private take(): number {
    const i = this.e[this.at + HEAD] | 0;
    const o = this.base + i * INPUT_NUMBERS;
    const seq = this.e[o];
    this.lastSeq = seq < 0x40000000 ? seq | 0 : seq; // seqs past 2^30 (years of play) stay exact as doubles
    this.lastButtons = this.buttonsAt(i);
    this.lastAim = this.aimAt(i);
    const log = this.applied;
    log.at[log.count++] = this.e[o + 3];
    this.e[this.at + HEAD] = i + 1 === this.limit ? 0 : i + 1;
    this.e[this.at + LENGTH]--;
    return i;
  }

  /**
   * Inputs for the next step of a player standing at `pos`. `life` identifies the
   * player's current life (round and death count): guesses never survive a
   * teleport. `canGuess` is false while the player is disconnected or dead.
   * The returned inputs are valid until the next call.
   *
   * With `out`, a plan of exactly one input (the common case) writes it there and
   * returns it as `one`: a room passes objects of its own, used in turn by all its
   * players, so the step does not touch this queue's own input objects, which are
   * cold by then (three cache misses a player a tick in `perf annotate`). The plan
   * object returned is then one shared by all queues: read it before the next plan.
   */
  plan(pos: Pos, life: number, canGuess: boolean, dt: number, out?: Input): TickPlan {
    let setPos: Pos | undefined;
    let fire = 0;
    if (this.ownLog) this.applied.count = 0;
    this.credit32 = Math.min(this.maxPerTick * 32, this.credit32 + 32 + CREDIT_SLACK * 32);
    if (this.guessed > 0 && this.length > 0) {
      const valid = this.anchor !== null && this.anchorLife === life;
      const k = Math.min(this.guessed, this.length);
      let p: Pos = this.anchor ?? pos;
      for (let j = 0; j < k; j++) {
        const b = this.buttonsAt(this.take());
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
    const real = Math.min(this.length, this.credit32 >> 5);
    this.credit32 -= real * 32;
    for (let j = 0; j < real; j++) {
      const i = this.take();
      this.input(n++, this.buttonsAt(i) | fire, this.aimAt(i));
      fire = 0;
    }
    if (n === 0) {
      if (fire) this.input(n++, fire, this.lastAim); // a shot from a late input is not lost
      else if (canGuess && this.lastSeq > 0 && this.guessed < this.reuseTicks && this.credit32 >= 32 && this.length === 0) {
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
    // With `out`, nothing of the queue's own plan objects is touched unless there are several inputs.
    const result = out === undefined ? this.result : SHARED_PLAN;
    result.one = undefined;
    if (n === 1 && out !== undefined) {
      out.buttons = this.firstButtons;
      out.aim = this.firstAim;
      result.one = out;
      result.inputs = NO_INPUTS;
    } else {
      if (n === 1) this.slot(0, this.firstButtons, this.firstAim);
      result.inputs = n === 0 ? NO_INPUTS : this.firstN[n];
    }
    result.setPos = setPos;
    return result;
  }

  /** The plan's input n: the first waits in the queue's fields (see `plan`), the others go to slots. */
  private input(n: number, buttons: number, aim: number): void {
    if (n === 0) {
      this.firstButtons = buttons;
      this.firstAim = aim;
      return;
    }
    if (n === 1) this.slot(0, this.firstButtons, this.firstAim);
    this.slot(n, buttons, aim);
  }

  private slot(n: number, buttons: number, aim: number): void {
    const slot = this.slots[n];
    if (slot !== undefined) { // not `if (slot)`, which would load the object's map only to write it
      slot.buttons = buttons;
      slot.aim = aim;
    } else {
      this.slots[n] = { buttons, aim };
      this.firstN[n + 1] = this.slots.slice(0, n + 1);
    }
  }
}
