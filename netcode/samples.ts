/**
 * A fixed-size ring of the latest samples (latencies, durations) with
 * percentiles on demand. Adding is O(1) and allocation-free; `quantile` selects
 * from a copy in O(n) (no sort: a server's rings hold thousands of samples and
 * /healthz is read every second), so read it rarely (a HUD refresh, a /healthz
 * request). `peak` is the largest sample ever added, including ones the ring has
 * since dropped.
 */
export class SampleRing {
  private readonly values: Float64Array;
  private held = 0;
  private next = 0;
  /** Scratch copy of the held samples that `quantile` partitions; `fresh` while no `add` came since the copy. */
  private readonly scratch: Float64Array;
  private fresh = false;
  peak = 0;

  constructor(size = 240) {
    this.values = new Float64Array(size);
    this.scratch = new Float64Array(size);
  }

  add(v: number): void {
    this.fresh = false;
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    if (this.held < this.values.length) this.held++;
    if (v > this.peak) this.peak = v;
  }

  /** Samples held (at most the ring's size). */
  get count(): number {
    return this.held;
  }

  /** The q-quantile (0..1) of the samples held, nearest rank; 0 when empty. */
  quantile(q: number): number {
    if (this.held === 0) return 0;
    if (!this.fresh) {
      this.scratch.set(this.values.subarray(0, this.held));
      this.fresh = true;
    }
    return select(this.scratch, this.held, Math.min(this.held - 1, Math.max(0, Math.ceil(q * this.held) - 1)));
  }

  mean(): number {
    if (this.held === 0) return 0;
    let s = 0;
    for (let i = 0; i < this.held; i++) s += this.values[i];
    return s / this.held;
  }

  reset(): void {
    this.fresh = false;
    this.held = 0;
    this.next = 0;
    this.peak = 0;
  }
}

/**
 * The k-th smallest of a[0..n) (0-based), rearranging a: Hoare's quickselect with a
 * median-of-three pivot, expected O(n). Any order of `a` is a valid input, so
 * several selections may run on one copy.
 */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
