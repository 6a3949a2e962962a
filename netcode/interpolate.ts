/**
 * Render-time interpolation of remote entities with an adaptive delay.
 *
 * Snapshot T is made at server room time T × period and reaches us `lateness`
 * later: L = serverNow(arrival) − T × period (one-way latency + the clock
 * estimate's error + jitter). Remote entities are drawn at
 *     renderTime = serverNow − transit − delay,   renderTick = renderTime / period
 * where transit = median L over the recent window (the typical arrival lag) and
 *     delay = clamp(period + jitterFactor × jitter, minDelay, maxDelay)
 * with jitter = mean |L − transit|. A snapshot can arrive up to a period after the
 * one before it plus its own excess lateness, so `delay` is the buffer that keeps
 * a newer snapshot on hand: on a steady link it is minDelay (1.5 periods).
 *
 * transit and delay are slewed toward their targets in proportion to the passing
 * server time (delay grows at ≤ 10 %, transit at ≤ 5 %; both shrink at ≥ 2 % / 5 %
 * and faster when far above target — excess / CATCHUP_MS — so the lag left by a
 * stall of a second drains in a few seconds, not half a minute). Render time
 * slows to ≥ 0.85× while adapting, speeds up while catching up, and never
 * steps backwards.
 *
 * Invariant: from the first snapshot on, renderTick() is non-decreasing across
 * calls (except after a restart, when the server clock itself jumped by more
 * than a second).
 */

export interface InterpOptions {
  period: number; // ms per tick
  minDelay?: number; // ms, default period * 1.5
  maxDelay?: number; // ms, default 500
  maxExtrapolate?: number; // ms, default 100
  jitterFactor?: number; // delay = period + jitterFactor × jitter; default 2.5
  window?: number; // lateness samples kept, default 60 (2 s at 30 Hz)
}

export interface Bracket {
  from: number;
  to: number;
  alpha: number;
  extrapolating: boolean;
}

const GROW = 0.1; // ms of delay added per ms of server time, at most
const SHRINK = 0.02; // ms of delay removed per ms of server time, at most
const TRANSIT_SLEW = 0.05;
const CATCHUP_MS = 2000; // time constant of draining excess delay/transit
const RESET_MS = 1000; // a clock jump larger than this restarts the statistics

export class Interpolator {
  readonly period: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly maxExtrapolate: number;
  private readonly jitterFactor: number;
  private readonly window: number;
  private lateness: number[] = [];
  private transitTarget = 0;
  private delayTarget: number;
  private transitApplied = 0;
  private delayApplied: number;
  private jitterMs = 0;
  private lastServerNow = -Infinity;
  private lastRender = -Infinity;
  private newestTick = -1;
  private buffer = 0;
  readonly stats = { snapshots: 0, extrapolations: 0, starved: 0 };

  constructor(opts: InterpOptions) {
    if (!(opts.period > 0)) throw new Error('Interpolator: period must be > 0');
    this.period = opts.period;
    this.minDelay = opts.minDelay ?? opts.period * 1.5;
    this.maxDelay = Math.max(this.minDelay, opts.maxDelay ?? 500);
    this.maxExtrapolate = opts.maxExtrapolate ?? 100;
    this.jitterFactor = opts.jitterFactor ?? 2.5;
    this.window = Math.max(4, opts.window ?? 60);
    this.delayTarget = this.delayApplied = this.minDelay;
  }

  /** A snapshot for `tick` arrived at client time `now`; `serverNow` is ServerClock.serverNow(now). */
  onSnapshot(tick: number, _now: number, serverNow: number): void {
    if (tick <= this.newestTick) return; // a duplicate or stale tick says nothing about arrival
    this.newestTick = tick;
    this.stats.snapshots++;
    const l = serverNow - tick * this.period;
    if (this.lateness.length > 0 && Math.abs(l - this.transitTarget) > RESET_MS) this.restart();
    const first = this.lateness.length === 0;
    this.lateness.push(l);
    if (this.lateness.length > this.window) this.lateness.shift();
    const sorted = [...this.lateness].sort((a, b) => a - b);
    const n = sorted.length;
    this.transitTarget = n % 2 ? sorted[n >> 1] : (sorted[(n >> 1) - 1] + sorted[n >> 1]) / 2;
    let dev = 0;
    for (const x of sorted) dev += Math.abs(x - this.transitTarget);
    this.jitterMs = dev / n;
    this.delayTarget = Math.min(this.maxDelay, Math.max(this.minDelay, this.period + this.jitterFactor * this.jitterMs));
    if (first) {
      // The first snapshot defines the time line: nothing could be drawn before it.
      this.lastRender = -Infinity;
      this.transitApplied = this.transitTarget;
      this.delayApplied = this.delayTarget;
      this.lastServerNow = serverNow;
    } else {
      this.advance(serverNow);
    }
  }

  /** Current interpolation delay on top of the typical arrival lag, ms. */
  get delay(): number {
    return this.delayApplied;
  }

  /** Typical arrival lag of snapshots (≈ one-way latency), ms. */
  get transit(): number {
    return this.transitApplied;
  }

  /** Mean absolute deviation of snapshot arrival lateness, ms. */
  get jitter(): number {
    return this.jitterMs;
  }

  /** Fractional server tick at which remote entities should be drawn now. */
  renderTick(serverNow: number): number {
    if (this.lastServerNow - serverNow > RESET_MS) this.restart(); // the clock went back: start over
    this.advance(serverNow);
    const r = (serverNow - this.transitApplied - this.delayApplied) / this.period;
    if (r >= this.lastRender || this.lastRender === -Infinity) this.lastRender = r;
    return this.lastRender;
  }

  /**
   * The two held ticks around `renderTick` (ascending `ticks`) and the blend between
   * them; past the newest, extrapolates from the last two by at most maxExtrapolate ms.
   */
  bracket(renderTick: number, ticks: readonly number[]): Bracket | null {
    const n = ticks.length;
    if (n === 0) return null;
    const newest = ticks[n - 1];
    this.buffer = (newest - renderTick) * this.period;
    if (renderTick <= ticks[0]) return { from: ticks[0], to: ticks[0], alpha: 0, extrapolating: false };
    if (renderTick <= newest) {
      let lo = 0; // largest i with ticks[i] < renderTick, so ticks[lo + 1] >= renderTick
      let hi = n - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (ticks[mid] < renderTick) lo = mid;
        else hi = mid;
      }
      const from = ticks[lo];
      const to = ticks[lo + 1];
      return { from, to, alpha: (renderTick - from) / (to - from), extrapolating: false };
    }
    this.stats.extrapolations++;
    const limit = newest + this.maxExtrapolate / this.period;
    if (renderTick > limit) this.stats.starved++;
    const t = Math.min(renderTick, limit);
    if (n === 1) return { from: newest, to: newest, alpha: 1, extrapolating: true };
    const from = ticks[n - 2];
    return { from, to: newest, alpha: (t - from) / (newest - from), extrapolating: true };
  }

  /** ms of buffered snapshots ahead of the render time at the last bracket() (negative = starving). */
  get bufferMs(): number {
    return this.buffer;
  }

  private advance(serverNow: number): void {
    const dt = serverNow - this.lastServerNow;
    if (!(dt > 0)) return;
    this.lastServerNow = serverNow;
    if (dt === Infinity) return;
    const dd = this.delayTarget - this.delayApplied;
    this.delayApplied += dd > 0 ? Math.min(dd, GROW * dt) : Math.max(dd, -Math.max(SHRINK, -dd / CATCHUP_MS) * dt);
    const dtr = this.transitTarget - this.transitApplied;
    this.transitApplied += dtr > 0 ? Math.min(dtr, TRANSIT_SLEW * dt) : Math.max(dtr, -Math.max(TRANSIT_SLEW, -dtr / CATCHUP_MS) * dt);
  }

  private restart(): void {
    this.lateness = [];
    this.lastRender = -Infinity;
    this.lastServerNow = -Infinity;
  }
}

/** Linear interpolation: a at t = 0, b at t = 1 (t > 1 extrapolates). */
export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

/**
 * Interpolates angles in radians the short way round, as 16-bit binary angles
 * wrap: from 350° to 10° passes through 0°, not 180°. The result is a + d × t
 * for the signed shortest difference d in [−π, π); it is not normalized.
 */
export function lerpAngle(a: number, b: number, t: number): number {
  const TAU = Math.PI * 2;
  let d = (b - a) % TAU;
  if (d < -Math.PI) d += TAU;
  else if (d >= Math.PI) d -= TAU;
  return a + d * t;
}
