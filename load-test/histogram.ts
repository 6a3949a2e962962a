/**
 * A mergeable latency histogram with < 1 % relative error, small enough to post
 * from a worker every second (1,664 uint32 buckets, ~6.5 kB).
 *
 * Values are recorded in whole microseconds. Below 128 µs every value has its own
 * bucket; above, each power of two is split into 64 buckets (log-linear, the HDR
 * histogram layout with 7 significant bits). The exact maximum is kept aside.
 * We do not depend on hdr-histogram-js: this is all the report needs, and the
 * bucket array travels between threads as a plain typed array.
 */
const SUB = 64; // buckets per power of two above the linear range
const LINEAR = 2 * SUB; // values below this (µs) are exact
const MAX_SHIFT = 24; // up to 2^31 µs ≈ 35 min
export const BUCKETS = SUB * MAX_SHIFT + LINEAR;
const MAX_US = 2 ** 31 - 1;

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const msb = 31 - Math.clz32(us);
  const shift = msb - 6; // ≥ 1
  return SUB * shift + (us >>> shift);
}

/** Midpoint (µs) of the values falling in bucket `b`. */
function midpoint(b: number): number {
  if (b < LINEAR) return b;
  const shift = Math.floor((b - SUB) / SUB);
  const mantissa = b - SUB * shift;
  return (mantissa + 0.5) * 2 ** shift;
}

export class Histogram {
  counts: Uint32Array;
  count = 0;
  maxMs = 0;

  constructor(counts?: Uint32Array, maxMs = 0) {
    this.counts = counts ?? new Uint32Array(BUCKETS);
    for (let i = 0; counts && i < counts.length; i++) this.count += counts[i];
    this.maxMs = maxMs;
  }

  /** Records one value in ms (negative values count as 0). */
  add(ms: number): void {
    const us = Math.min(MAX_US, Math.max(0, Math.round(ms * 1000)));
    this.counts[bucketOf(us)]++;
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(other: { counts: Uint32Array; maxMs: number }): void {
    const c = other.counts;
    for (let i = 0; i < c.length; i++) {
      if (c[i] !== 0) {
        this.counts[i] += c[i];
        this.count += c[i];
      }
    }
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  /** The q-quantile (0..1) in ms, nearest rank; 0 when empty. Never above the recorded max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxMs, midpoint(i) / 1000);
    }
    return this.maxMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxMs = 0;
  }

  /** Hands the counts over (for postMessage) and starts empty. */
  take(): { counts: Uint32Array; maxMs: number } {
    const out = { counts: this.counts, maxMs: this.maxMs };
    this.counts = new Uint32Array(BUCKETS);
    this.count = 0;
    this.maxMs = 0;
    return out;
  }
}
