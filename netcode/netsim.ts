/**
 * A seeded network simulator for ONE direction of an ordered, reliable stream
 * (a WebSocket over TCP), on virtual time: tests and the browser's `?lag=` mode
 * put one in each direction and drive both from the same loop, no sleeps.
 *
 * Algorithm, per message sent at `now` with `bytes`:
 *   1. bandwidth: the message is serialized after the previous one, so it leaves
 *      at  wire = max(now, linkFree) + bytes / bandwidth;
 *   2. latency + jitter: it would arrive at  wire + latency + u, u uniform in
 *      [-jitter, +jitter] from the seeded RNG (never before `now`);
 *   3. loss: with probability `loss` the segment is lost and retransmitted, which
 *      adds `retransmit` ms (default 200 ms RTO + latency) — nothing is dropped;
 *   4. order: TCP delivers in order, so it arrives no earlier than the message
 *      before it (head-of-line blocking: later ones wait behind a retransmit).
 *
 * Invariant: `poll` returns every item exactly once, in send order, at or after
 * its delivery time; the same seed and calls give the same schedule.
 */

export interface NetSimOptions {
  latency: number; // ms one-way
  jitter?: number; // ms, uniform ± around latency, seeded (default 0)
  loss?: number; // 0..1: probability a message needs a retransmit (delayed, never dropped)
  bandwidth?: number; // bytes/s, 0 = unlimited (default)
  seed?: number; // default 1
  retransmit?: number; // ms added to a "lost" message; default 200 + latency
}

interface InFlight<T> {
  item: T;
  at: number; // ms, delivery time
}

export class NetSim<T> {
  private readonly latency: number;
  private readonly jitter: number;
  private readonly loss: number;
  private readonly bandwidth: number;
  private readonly retransmit: number;
  private readonly random: () => number;
  private readonly queue: InFlight<T>[] = [];
  private head = 0; // index of the first undelivered item in `queue`
  private linkFree = -Infinity; // ms when the sender's link finishes serializing
  private lastAt = -Infinity; // delivery time of the last message sent (ordering)
  /** Messages that needed a retransmit. */
  retransmits = 0;

  constructor(opts: NetSimOptions) {
    this.latency = Math.max(0, opts.latency);
    this.jitter = Math.max(0, opts.jitter ?? 0);
    this.loss = Math.min(1, Math.max(0, opts.loss ?? 0));
    this.bandwidth = Math.max(0, opts.bandwidth ?? 0);
    this.retransmit = opts.retransmit ?? 200 + this.latency;
    this.random = mulberry32(opts.seed ?? 1);
  }

  send(item: T, now: number, bytes = 0): void {
    let wire = now;
    if (this.bandwidth > 0) {
      wire = Math.max(now, this.linkFree) + (bytes / this.bandwidth) * 1000;
      this.linkFree = wire;
    }
    // Draw both numbers for every message so a loss setting does not shift the jitter sequence.
    const u = (this.random() * 2 - 1) * this.jitter;
    const lost = this.random() < this.loss;
    let at = Math.max(now, wire + this.latency + u);
    if (lost) {
      at += this.retransmit;
      this.retransmits++;
    }
    at = Math.max(at, this.lastAt);
    this.lastAt = at;
    this.queue.push({ item, at });
  }

  /** Items whose delivery time has come, in send order (never reordered). */
  poll(now: number): T[] {
    const out: T[] = [];
    while (this.head < this.queue.length && this.queue[this.head].at <= now) out.push(this.queue[this.head++].item);
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  get inFlight(): number {
    return this.queue.length - this.head;
  }

  /** Delivery time of the next item, or null when nothing is in flight (lets a loop jump ahead). */
  get nextAt(): number | null {
    return this.head < this.queue.length ? this.queue[this.head].at : null;
  }
}

/** Tommy Ettinger's mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Parses a URL query such as "?lag=100&jitter=20&loss=0.02&bw=64000&seed=7".
 * `lag` is the ONE-WAY latency in ms applied to BOTH directions (so RTT ≈ 2 × lag);
 * jitter ms, loss 0..1, bw bytes/s (0 = unlimited), seed an integer (default 1).
 * Returns null when none of lag / jitter / loss is given; bad numbers count as absent,
 * out-of-range ones are clamped.
 */
export function netSimFromQuery(search: string): NetSimOptions | null {
  const q = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const num = (name: string): number | undefined => {
    const raw = q.get(name);
    if (raw === null || raw.trim() === '') return undefined;
    const v = Number(raw);
    return Number.isFinite(v) ? v : undefined;
  };
  const lag = num('lag');
  const jitter = num('jitter');
  const loss = num('loss');
  if (lag === undefined && jitter === undefined && loss === undefined) return null;
  const opts: NetSimOptions = { latency: Math.max(0, lag ?? 0), seed: Math.trunc(num('seed') ?? 1) };
  if (jitter !== undefined) opts.jitter = Math.max(0, jitter);
  if (loss !== undefined) opts.loss = Math.min(1, Math.max(0, loss));
  const bw = num('bw') ?? num('bandwidth');
  if (bw !== undefined) opts.bandwidth = Math.max(0, bw);
  return opts;
}
