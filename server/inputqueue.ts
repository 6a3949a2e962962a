/**
 * One player's input queue as an object over inputs.ts's `InputRule`: the rule's code on
 * the queue's numbers, wherever they live (a member's row of the room's seat table, or an
 * array of its own in tests). The room's hot paths call the rule on the row directly.
 */
import type { Input } from '../game/sim/index.ts';
import type { InputFrame } from '../netcode/protocol.ts';
import { type AppliedLog, type InputStore, InputRule, type Pos, type QueueOptions, queueNumbers, type TickPlan } from './inputs.ts';

/**
 * An input queue as an object: a rule and a store. Without a store the queue has an
 * array of its own; given options rather than a rule, a rule of its own (and with it
 * a log of its own unless `applied` is given).
 */
export class InputQueue {
  private readonly rule: InputRule;
  private readonly e: Float64Array;
  private readonly at: number;
  /** Inputs refused because the queue was full (a client sending faster than the tick). */
  refused = 0;

  constructor(rule: InputRule | QueueOptions, store?: InputStore, applied?: AppliedLog) {
    this.rule = rule instanceof InputRule ? rule : new InputRule(rule, applied);
    this.e = store?.data ?? new Float64Array(queueNumbers(this.rule.limit));
    this.at = store?.offset ?? 0;
    if (this.at + queueNumbers(this.rule.limit) > this.e.length) throw new RangeError('input store too small for the queue');
    this.rule.init(this.e, this.at);
  }

  /** Where `plan` logs the receive times of the real inputs it applies (the rule's log). */
  get applied(): AppliedLog {
    return this.rule.applied;
  }

  /** Last real input seq applied. */
  get lastSeq(): number {
    return this.rule.lastSeq(this.e, this.at);
  }

  /** Position after the last real input, while guesses are outstanding. */
  get anchor(): Pos | null {
    return this.rule.seat(this.e, this.at, { lastSeq: 0, anchor: null }, { x: 0, y: 0 }).anchor;
  }

  get pending(): number {
    return this.rule.pending(this.e, this.at);
  }

  /** See `InputRule.restore`. */
  restore(lastSeq: number): void {
    this.rule.restore(this.e, this.at, lastSeq);
  }

  /** See `InputRule.rejoin`. */
  rejoin(): void {
    this.rule.rejoin(this.e, this.at);
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

  /** See `InputRule.offer`; counts what the full queue refused. */
  offer(seq: number, buttons: number, aim: number, now: number): number {
    const r = this.rule.offer(this.e, this.at, seq, buttons, aim, now);
    if (r < 0) this.refused++;
    return r;
  }

  /** See `InputRule.plan`. */
  plan(pos: Pos, life: number, canGuess: boolean, dt: number, out?: Input): TickPlan {
    return this.rule.plan(this.e, this.at, pos, life, canGuess, dt, out);
  }
}
