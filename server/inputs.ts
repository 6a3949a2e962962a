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
import { BTN_ALL, BTN_FIRE, type Input, movePlayer, NO_INPUT } from '../game/sim/index.ts';
import type { InputFrame } from '../netcode/protocol.ts';

/** Extra steps per tick a client may take: absorbs a client clock up to ~3 % fast, and is all a cheater gains. */
export const CREDIT_SLACK = 1 / 32;

export interface Pos {
  x: number;
  y: number;
}

export interface TickPlan {
  /** Inputs for this step, in order (each one dt of movement). */
  inputs: Input[];
  /** The player's position rewritten before the step (guesses replaced by real inputs). */
  setPos?: Pos;
}

export class InputQueue {
  private queue: (InputFrame & { at: number })[] = [];
  /** Receive times (ms) of the real inputs applied by the last `plan`, for input-to-ack latency. */
  readonly appliedAt: number[] = [];
  /** Last real input seq applied. */
  lastSeq = 0;
  /** Highest seq accepted. */
  private highSeq = 0;
  private last: Input = NO_INPUT;
  private guessed = 0;
  /** Position after the last real input, while guesses are outstanding. */
  anchor: Pos | null = null;
  private anchorLife = -1;
  /** Inputs refused because the queue was full (a client sending faster than the tick). */
  refused = 0;
  /** Steps this player may still take (see the credit rule above). */
  private credit = 0;

  constructor(private readonly opts: { limit: number; maxPerTick: number; reuseTicks: number }) {}

  /**
   * A (re)joined client continues at lastSeq + 1 and resends what it has not seen
   * applied, so inputs queued for the old socket are dropped rather than doubled.
   */
  rejoin(): void {
    this.queue = [];
    this.highSeq = this.lastSeq;
  }

  /** Accepts new inputs (seq above all seen), clamping values; returns how many were taken. */
  push(frames: readonly InputFrame[], now: number): number {
    let taken = 0;
    for (const f of frames) {
      if (f.seq <= this.highSeq) continue; // redundant copy of one already held or applied
      if (this.queue.length >= this.opts.limit) { this.refused++; break; } // resent next message
      this.queue.push({ seq: f.seq, buttons: f.buttons & BTN_ALL, aim: f.aim & 0xffff, at: now });
      this.highSeq = f.seq;
      taken++;
    }
    return taken;
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Inputs for the next step of a player standing at `pos`. `life` identifies the
   * player's current life (round and death count): guesses never survive a
   * teleport. `canGuess` is false while the player is disconnected or dead.
   */
  plan(pos: Pos, life: number, canGuess: boolean, dt: number): TickPlan {
    let setPos: Pos | undefined;
    let fire = 0;
    this.appliedAt.length = 0;
    this.credit = Math.min(this.opts.maxPerTick, this.credit + 1 + CREDIT_SLACK);
    if (this.guessed > 0 && this.queue.length > 0) {
      const valid = this.anchor !== null && this.anchorLife === life;
      const k = Math.min(this.guessed, this.queue.length);
      let p: Pos = this.anchor ?? pos;
      for (const f of this.queue.splice(0, k)) {
        if (valid) p = movePlayer(p.x, p.y, f.buttons, dt);
        fire |= f.buttons & BTN_FIRE;
        this.lastSeq = f.seq;
        this.last = f;
        this.appliedAt.push(f.at);
      }
      this.guessed -= k;
      if (valid) {
        this.anchor = this.guessed > 0 ? p : null;
        for (let i = 0; i < this.guessed; i++) p = movePlayer(p.x, p.y, this.last.buttons, dt);
        if (p.x !== pos.x || p.y !== pos.y) setPos = p;
      } else {
        this.guessed = 0;
        this.anchor = null;
      }
    }
    // Real inputs that replaced guesses above cost nothing: their steps were paid for when guessed.
    const inputs: Input[] = [];
    const n = Math.min(this.queue.length, Math.floor(this.credit));
    this.credit -= n;
    for (const f of this.queue.splice(0, n)) {
      inputs.push({ buttons: f.buttons | fire, aim: f.aim });
      fire = 0;
      this.lastSeq = f.seq;
      this.last = f;
      this.appliedAt.push(f.at);
    }
    if (inputs.length === 0) {
      if (fire) inputs.push({ buttons: fire, aim: this.last.aim }); // a shot from a late input is not lost
      else if (canGuess && this.lastSeq > 0 && this.guessed < this.opts.reuseTicks && this.credit >= 1 && this.queue.length === 0) {
        if (this.guessed === 0) {
          this.anchor = setPos ?? pos;
          this.anchorLife = life;
        }
        this.guessed++;
        this.credit -= 1;
        // Never guess a shot: it could not be taken back. A real one arriving later still fires.
        inputs.push({ buttons: this.last.buttons & ~BTN_FIRE, aim: this.last.aim });
      }
    }
    if (!canGuess && this.guessed > 0) {
      this.guessed = 0; // the dropped or dead player's guessed steps stand; no anchor left to report
      this.anchor = null;
    }
    return setPos ? { inputs, setPos } : { inputs };
  }
}
