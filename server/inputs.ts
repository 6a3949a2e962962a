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

const NO_INPUTS: readonly Input[] = [];

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

/** What a queue's owner shows of it in each snapshot (its player's seat fields). */
export interface QueueSeat {
  /** Last real input seq applied. */
  lastSeq: number;
  /** Position after the last real input while guesses are outstanding, else null. */
  anchor: Pos | null;
}

export interface QueueOptions {
  limit: number;
  maxPerTick: number;
  reuseTicks: number;
}

/** Where a queue keeps its numbers: `queueNumbers(limit)` doubles of `data` from `offset` (part of a seat table's row). */
export interface InputStore {
  data: Float64Array;
  offset: number;
}

/** Doubles per queued input: seq, buttons, aim, receive time. */
export const INPUT_NUMBERS = 4;
/*
 * A queue's state is numbers only, first in its store, then its entries:
 * - HEAD, LENGTH: the FIFO (oldest entry's slot, entries held); HIGH_SEQ: the highest seq accepted;
 * - CREDIT32: steps the player may still take, in 1/32 steps (see the credit rule above);
 * - LAST_SEQ, LAST_BUTTONS, LAST_AIM: the last real input applied (what a guess repeats);
 * - GUESSED: guesses outstanding; ANCHOR_X/Y: the position before them, valid while
 *   HAS_ANCHOR is 1 and for the player's life ANCHOR_LIFE.
 * Integers come back as small integers (`| 0`): integer arithmetic, not fmod or heap boxes.
 */
const HEAD = 0;
const LENGTH = 1;
const HIGH_SEQ = 2;
const CREDIT32 = 3;
const LAST_SEQ = 4;
const LAST_BUTTONS = 5;
const LAST_AIM = 6;
const GUESSED = 7;
const HAS_ANCHOR = 8;
const ANCHOR_LIFE = 9;
const ANCHOR_X = 10;
const ANCHOR_Y = 11;
const HEADER = 12;
/** Doubles a queue of `limit` entries keeps in its store. */
export const queueNumbers = (limit: number): number => HEADER + limit * INPUT_NUMBERS;

/**
 * The queue's rules and code, shared by all queues of a room (like `RateRule`): a
 * queue is just numbers in its store, so the server's message path (`offer`) and
 * tick (`plan`) touch the seat's row and no object of its own, which would be one
 * more cold cache line per client each time among hundreds of clients.
 * `InputQueue` pairs a rule with a store, for code that wants an object.
 */
export class InputRule {
  readonly limit: number;
  readonly maxPerTick: number;
  readonly reuseTicks: number;
  /**
   * Where `plan` logs the receive times of the real inputs it applies (input-to-ack
   * latency). A shared log is emptied by its owner; the rule's own log holds the
   * last plan's.
   */
  readonly applied: AppliedLog;
  private readonly ownLog: boolean;
  /** The plan object returned: read it before the next plan. */
  private readonly result: TickPlan = { inputs: NO_INPUTS, one: undefined, setPos: undefined };
  /** The plan's inputs while it is built (reused). */
  private readonly buttons: number[] = [];
  private readonly aims: number[] = [];

  /** Without a log, a log of its own. */
  constructor(opts: QueueOptions, applied?: AppliedLog) {
    this.limit = opts.limit;
    this.maxPerTick = opts.maxPerTick;
    this.reuseTicks = opts.reuseTicks;
    this.applied = applied ?? { at: [], count: 0 };
    this.ownLog = applied === undefined;
  }

  /** A new queue's numbers at `at` of `e` (any earlier contents are forgotten). */
  init(e: Float64Array, at: number): void {
    e.fill(0, at, at + queueNumbers(this.limit));
  }

  /**
   * One input: 1 when taken, 0 when a redundant copy of one already held or
   * applied, -1 when the queue is full (the client resends it next message).
   */
  offer(e: Float64Array, at: number, seq: number, buttons: number, aim: number, now: number): number {
    if (seq <= e[at + HIGH_SEQ]) return 0;
    const length = e[at + LENGTH] | 0;
    if (length >= this.limit) return -1;
    const o = at + HEADER + (((e[at + HEAD] | 0) + length) % this.limit) * INPUT_NUMBERS;
    e[o] = seq;
    e[o + 1] = buttons & BTN_ALL;
    e[o + 2] = aim & 0xffff;
    e[o + 3] = now;
    e[at + LENGTH] = length + 1;
    e[at + HIGH_SEQ] = seq;
    return 1;
  }

  /**
   * A (re)joined client continues at lastSeq + 1 and resends what it has not seen
   * applied, so inputs queued for the old socket are dropped rather than doubled.
   */
  rejoin(e: Float64Array, at: number): void {
    e[at + HEAD] = 0;
    e[at + LENGTH] = 0;
    e[at + HIGH_SEQ] = e[at + LAST_SEQ];
  }

  /** A seat restored from a saved room: its client continues after `lastSeq`. */
  restore(e: Float64Array, at: number, lastSeq: number): void {
    e[at + LAST_SEQ] = lastSeq;
    e[at + HIGH_SEQ] = lastSeq;
  }

  pending(e: Float64Array, at: number): number {
    return e[at + LENGTH] | 0;
  }

  lastSeq(e: Float64Array, at: number): number {
    const seq = e[at + LAST_SEQ];
    return seq < 0x40000000 ? seq | 0 : seq; // seqs past 2^30 (years of play) stay exact as doubles
  }

  /** The queue's seat fields, written into `into`, whose `anchor` is `anchorInto` or null. */
  seat(e: Float64Array, at: number, into: QueueSeat, anchorInto: Pos): QueueSeat {
    into.lastSeq = this.lastSeq(e, at);
    if (e[at + HAS_ANCHOR] === 1) {
      anchorInto.x = e[at + ANCHOR_X];
      anchorInto.y = e[at + ANCHOR_Y];
      into.anchor = anchorInto;
    } else {
      into.anchor = null;
    }
    return into;
  }

  /** Takes the oldest queued input as applied: its seq, its receive time, and it becomes the one a guess repeats. Returns its entry's offset. */
  private take(e: Float64Array, at: number): number {
    const i = e[at + HEAD] | 0;
    const o = at + HEADER + i * INPUT_NUMBERS;
    e[at + LAST_SEQ] = e[o];
    e[at + LAST_BUTTONS] = e[o + 1];
    e[at + LAST_AIM] = e[o + 2];
    const log = this.applied;
    log.at[log.count++] = e[o + 3];
    e[at + HEAD] = i + 1 === this.limit ? 0 : i + 1;
    e[at + LENGTH]--;
    return o;
  }

  private setAnchor(e: Float64Array, at: number, p: Pos | null): void {
    e[at + HAS_ANCHOR] = p === null ? 0 : 1;
    if (p !== null) {
      e[at + ANCHOR_X] = p.x;
      e[at + ANCHOR_Y] = p.y;
    }
  }

  /**
   * Inputs for the next step of a player standing at `pos`. `life` identifies the
   * player's current life (round and death count): guesses never survive a
   * teleport. `canGuess` is false while the player is disconnected or dead.
   * The returned plan object is the rule's own: read it before the next plan.
   *
   * With `out`, a plan of exactly one input (the common case) writes it there and
   * returns it as `one`: a room passes objects of its own, used in turn by all its
   * players, which stay warm. Otherwise the inputs are new objects (several inputs
   * in one step happen only when a player catches up).
   */
  plan(e: Float64Array, at: number, pos: Pos, life: number, canGuess: boolean, dt: number, out?: Input): TickPlan {
    let setPos: Pos | undefined;
    let fire = 0;
    if (this.ownLog) this.applied.count = 0;
    let credit32 = Math.min(this.maxPerTick * 32, (e[at + CREDIT32] | 0) + 32 + CREDIT_SLACK * 32);
    let guessed = e[at + GUESSED] | 0;
    if (guessed > 0 && e[at + LENGTH] > 0) {
      const valid = e[at + HAS_ANCHOR] === 1 && e[at + ANCHOR_LIFE] === life;
      const k = Math.min(guessed, e[at + LENGTH] | 0);
      let p: Pos = valid ? { x: e[at + ANCHOR_X], y: e[at + ANCHOR_Y] } : pos;
      for (let j = 0; j < k; j++) {
        const b = e[this.take(e, at) + 1] | 0;
        if (valid) p = movePlayer(p.x, p.y, b, dt);
        fire |= b & BTN_FIRE;
      }
      guessed -= k;
      if (valid) {
        this.setAnchor(e, at, guessed > 0 ? p : null);
        const last = e[at + LAST_BUTTONS] | 0;
        for (let i = 0; i < guessed; i++) p = movePlayer(p.x, p.y, last, dt);
        if (p.x !== pos.x || p.y !== pos.y) setPos = p;
      } else {
        guessed = 0;
        this.setAnchor(e, at, null);
      }
    }
    // Real inputs that replaced guesses above cost nothing: their steps were paid for when guessed.
    let n = 0;
    const buttons = this.buttons;
    const aims = this.aims;
    const real = Math.min(e[at + LENGTH] | 0, credit32 >> 5);
    credit32 -= real * 32;
    for (let j = 0; j < real; j++) {
      const o = this.take(e, at);
      buttons[n] = (e[o + 1] | 0) | fire;
      aims[n++] = e[o + 2] | 0;
      fire = 0;
    }
    if (n === 0) {
      if (fire) { // a shot from a late input is not lost
        buttons[n] = fire;
        aims[n++] = e[at + LAST_AIM] | 0;
      } else if (canGuess && e[at + LAST_SEQ] > 0 && guessed < this.reuseTicks && credit32 >= 32 && e[at + LENGTH] === 0) {
        if (guessed === 0) {
          this.setAnchor(e, at, setPos ?? pos);
          e[at + ANCHOR_LIFE] = life;
        }
        guessed++;
        credit32 -= 32;
        // Never guess a shot: it could not be taken back. A real one arriving later still fires.
        buttons[n] = (e[at + LAST_BUTTONS] | 0) & ~BTN_FIRE;
        aims[n++] = e[at + LAST_AIM] | 0;
      }
    }
    if (!canGuess && guessed > 0) {
      guessed = 0; // the dropped or dead player's guessed steps stand; no anchor left to report
      this.setAnchor(e, at, null);
    }
    e[at + CREDIT32] = credit32;
    e[at + GUESSED] = guessed;
    const result = this.result;
    result.one = undefined;
    result.inputs = NO_INPUTS;
    if (n === 1 && out !== undefined) {
      out.buttons = buttons[0];
      out.aim = aims[0];
      result.one = out;
    } else if (n > 0) {
      const list: Input[] = [];
      for (let i = 0; i < n; i++) list.push({ buttons: buttons[i], aim: aims[i] });
      result.inputs = list;
    }
    result.setPos = setPos;
    return result;
  }
}
