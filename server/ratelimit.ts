/**
 * Rate limit on caller-supplied time (ms): `rate` a second, in bursts of up to
 * `burst`. The token bucket, kept as GCRA: one number, `tat`, the time at which
 * the bucket would be full again. A take at `now` is refused while `tat` lies more
 * than (burst - 1) intervals ahead; else `tat` moves one interval on.
 *
 * The rule (rate, burst) and the state (`tat`) are apart: a room holds one
 * `RateRule` for all its clients and keeps each client's `tat` in a row of its
 * seat table, so a message reads one cold cache line for its limit instead of a
 * bucket object and the heap box V8 keeps a double field in. `TokenBucket` is the
 * same rule with a state of its own.
 */
export class RateRule {
  private readonly intervalMs: number;
  private readonly toleranceUs: number; // µs `tat` may run ahead of now

  constructor(rate: number, burst: number) {
    const intervalUs = Math.round(1e6 / rate); // whole µs: the burst count below is exact
    this.intervalMs = intervalUs / 1000;
    this.toleranceUs = Math.round((burst - 1) * intervalUs); // in whole intervals
  }

  /** Takes one for the caller whose `tat` is `state[i]`; false when its burst is spent and the rate not yet earned back. */
  take(state: Float64Array, i: number, now: number): boolean {
    const tat = state[i] > now ? state[i] : now;
    if ((tat - now) * 1000 > this.toleranceUs + 0.5) return false; // half a µs of slack for float sums
    state[i] = tat + this.intervalMs;
    return true;
  }
}

/** A rule with its own state: for a limit taken rarely (chat), where one more object does not matter. */
export class TokenBucket {
  private readonly rule: RateRule;
  private readonly tat: Float64Array;

  constructor(rate: number, burst: number, now: number) {
    this.rule = new RateRule(rate, burst);
    this.tat = Float64Array.of(now);
  }

  /** Takes one; false when the burst is spent and the rate not yet earned back. */
  take(now: number): boolean {
    return this.rule.take(this.tat, 0, now);
  }
}
