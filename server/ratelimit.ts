/**
 * Rate limit on caller-supplied time (ms): `rate` a second, in bursts of up to
 * `burst`. The token bucket, kept as GCRA: one number, `tat`, the time at which
 * the bucket would be full again. A take at `now` is refused while `tat` lies more
 * than (burst - 1) intervals ahead; else `tat` moves one interval on. One field
 * instead of two (tokens, last refill): a double field is a separate heap box in
 * V8, and every client message reads this bucket, cold, among 500 others.
 */
export class TokenBucket {
  private tat: number;
  private readonly intervalUs: number; // µs per take at the steady rate (integer: no box)
  private readonly toleranceUs: number; // µs `tat` may run ahead of now

  constructor(rate: number, burst: number, now: number) {
    this.intervalUs = Math.round(1e6 / rate);
    this.toleranceUs = Math.round((burst - 1) * this.intervalUs); // in whole intervals: the burst count is exact
    this.tat = now;
  }

  /** Takes one; false when the burst is spent and the rate not yet earned back. */
  take(now: number): boolean {
    const tat = this.tat > now ? this.tat : now;
    if ((tat - now) * 1000 > this.toleranceUs + 0.5) return false; // half a µs of slack for float sums
    this.tat = tat + this.intervalUs / 1000;
    return true;
  }
}
