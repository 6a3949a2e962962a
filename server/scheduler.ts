/**
 * Fixed-step tick clock: an accumulator fed with the caller's `now` (ms).
 *
 * Invariant: tick k (1-based) is due at start + k * period, computed from the
 * start time rather than accumulated, so neither timer lateness nor float
 * rounding drifts the clock: after `due(now)` the ticks run plus the ticks
 * dropped equal floor((now + EARLY_MS - start) / period). When the process stalled
 * for more than `maxCatchUp` periods, the excess is dropped (counted in `dropped`)
 * instead of being run in a burst that would stall it again.
 *
 * A tick may run up to EARLY_MS before it is due. Timers fire on whole
 * milliseconds of the event loop's clock, so a wake-up lands up to ~1 ms either
 * side of a fractional due time; refusing an early one costs another timer, ~1 ms
 * late. Taking it keeps ticks within about a millisecond of their grid, which is
 * what bounds input-to-ack latency; the long-run rate is unchanged.
 */
export const EARLY_MS = 1;

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
    const owed = Math.floor(((now + EARLY_MS - this.start) * this.rate) / 1000 + 1e-9) - this.scheduled;
    if (owed <= 0) return 0;
    const run = Math.min(owed, this.maxCatchUp);
    this.dropped += owed - run;
    this.scheduled += owed;
    return run;
  }

  /** ms until the next tick may run (0 if it may now). */
  wait(now: number): number {
    return Math.max(0, this.start + (this.scheduled + 1) * this.period - EARLY_MS - now);
  }
}
