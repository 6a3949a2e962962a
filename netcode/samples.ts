/**
 * A fixed-size ring of the latest samples (latencies, durations) with
 * percentiles on demand. Adding is O(1) and allocation-free; `quantile` sorts a
 * copy, so read it rarely (a HUD refresh, a /healthz request). `peak` is the
 * largest sample ever added, including ones the ring has since dropped.
 */
export class SampleRing {
  private readonly values: Float64Array;
  private held = 0;
  private next = 0;
  /** The held samples sorted, until the next `add` (several quantiles are usually read at once). */
  private sorted: Float64Array | null = null;
  peak = 0;

  constructor(size = 240) {
    this.values = new Float64Array(size);
  }

  add(v: number): void {
    this.sorted = null;
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
    this.sorted ??= this.values.slice(0, this.held).sort();
    const sorted = this.sorted;
    return sorted[Math.min(this.held - 1, Math.max(0, Math.ceil(q * this.held) - 1))];
  }

  mean(): number {
    if (this.held === 0) return 0;
    let s = 0;
    for (let i = 0; i < this.held; i++) s += this.values[i];
    return s / this.held;
  }

  reset(): void {
    this.sorted = null;
    this.held = 0;
    this.next = 0;
    this.peak = 0;
  }
}
