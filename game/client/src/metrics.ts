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

/** The last `size` samples, for percentiles and means. */
export class SampleRing {
  private readonly values: Float64Array;
  private count = 0;
  private next = 0;

  constructor(size = 240) {
    this.values = new Float64Array(size);
  }

  push(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    if (this.count < this.values.length) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** The q-quantile (0..1) of the samples held; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const sorted = Array.from(this.values.subarray(0, this.count)).sort((a, b) => a - b);
    return sorted[Math.min(this.count - 1, Math.floor(q * this.count))];
  }

  mean(): number {
    if (this.count === 0) return 0;
    let s = 0;
    for (let i = 0; i < this.count; i++) s += this.values[i];
    return s / this.count;
  }

  max(): number {
    let m = 0;
    for (let i = 0; i < this.count; i++) m = Math.max(m, this.values[i]);
    return m;
  }
}

/** Rounds for display and JSON (a few decimals, no float noise). */
export const round = (v: number, places = 1): number => {
  const k = 10 ** places;
  return Math.round(v * k) / k;
};
