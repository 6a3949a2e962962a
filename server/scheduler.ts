/**
 * Fixed-step tick clock: an accumulator fed with the caller's `now` (ms).
 *
 * Invariant: tick k (1-based) is due at start + k * period, computed from the
 * start time rather than accumulated, so neither timer lateness nor float
 * rounding drifts the clock: after `due(now)` the ticks run plus the ticks
 * dropped equal floor((now - start) / period). When the process stalled for more
 * than `maxCatchUp` periods, the excess is dropped (counted in `dropped`) instead
 * of being run in a burst that would stall it again.
 */
export class TickScheduler {
  readonly period: number; // ms
  private readonly start: number; // ms
  private readonly maxCatchUp: number;
  private readonly rate: number; // Hz
  private scheduled = 0; // ticks run or dropped so far
  dropped = 0;

  constructor(opts: { rate: number; maxCatchUp: number; now: number }) {
    this.rate = opts.rate;
    this.period = 1000 / opts.rate;
    this.maxCatchUp = opts.maxCatchUp;
    this.start = opts.now;
  }

  /** How many ticks to run now. */
  due(now: number): number {
    // Multiply rather than divide by the period (1000/30 is inexact); the epsilon absorbs rounding at exact due times.
    const owed = Math.floor(((now - this.start) * this.rate) / 1000 + 1e-9) - this.scheduled;
    if (owed <= 0) return 0;
    const run = Math.min(owed, this.maxCatchUp);
    this.dropped += owed - run;
    this.scheduled += owed;
    return run;
  }

  /** ms until the next tick is due (0 if overdue). */
  wait(now: number): number {
    return Math.max(0, this.start + (this.scheduled + 1) * this.period - now);
  }
}
