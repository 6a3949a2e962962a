/** A fixed-size ring of recent samples with percentiles on demand (read rarely: /healthz, /metrics). */
export class SampleRing {
  private readonly buf: Float64Array;
  private n = 0;
  private i = 0;
  max = 0;

  constructor(size = 4096) {
    this.buf = new Float64Array(size);
  }

  add(v: number): void {
    this.buf[this.i] = v;
    this.i = (this.i + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
    if (v > this.max) this.max = v;
  }

  get count(): number {
    return this.n;
  }

  /** The q-quantile (0..1) of the samples held, nearest rank; 0 with none. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const sorted = this.buf.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))];
  }

  reset(): void {
    this.n = 0;
    this.i = 0;
    this.max = 0;
  }
}
