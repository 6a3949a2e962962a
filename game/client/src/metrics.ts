/**
 * Small windowed meters for the netgraph: rates over the last second or so and
 * percentiles over the last N samples. All take `now` (ms) from the caller.
 */

/** Sum of amounts per second over a sliding window (snapshots/s, bytes/s). */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly amounts: number[] = [];
  private sum = 0;

  constructor(private readonly windowMs = 1000) {}

  add(now: number, amount = 1): void {
    this.times.push(now);
    this.amounts.push(amount);
    this.sum += amount;
    this.trim(now);
  }

  /** Amount per second over the window ending at `now`. */
  rate(now: number): number {
    this.trim(now);
    return (this.sum * 1000) / this.windowMs;
  }

  private trim(now: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop] <= now - this.windowMs) {
      this.sum -= this.amounts[drop];
      drop++;
    }
    if (drop) {
      this.times.splice(0, drop);
      this.amounts.splice(0, drop);
    }
  }
}

/** Tracks a running total (e.g. bytes received) and turns its growth into a rate. */
export class CounterRate {
  private readonly meter: RateMeter;
  private last = 0;

  constructor(windowMs = 1000) {
    this.meter = new RateMeter(windowMs);
  }

  /** Feeds the counter's current total. */
  sample(now: number, total: number): void {
    const d = total - this.last;
    this.last = total;
    if (d > 0) this.meter.add(now, d);
  }

  rate(now: number): number {
    return this.meter.rate(now);
  }
}

export { SampleRing } from '../../../netcode/samples.ts';

/** Rounds for display and JSON (a few decimals, no float noise). */
export const round = (v: number, places = 1): number => {
  const k = 10 ** places;
  return Math.round(v * k) / k;
};
