/**
 * Estimates the server's room time (PONG.serverTime, in which tick T happened at
 * T × period) on the client's own clock, from PING/PONG round trips.
 *
 * Algorithm (NTP-style clock filter): a round trip sent at client time t0 and
 * answered at t1 with server time s gives
 *     rtt = t1 − t0,   offset = s + rtt / 2 − t1      (server − client, ms)
 * whose error is at most rtt / 2 (the unknown asymmetry of the two legs). So the
 * samples with the lowest RTT are the most trustworthy: the target offset is the
 * median offset of the lowest-RTT third of the window (at least 3 samples), which
 * discards queueing spikes and any single outlier. A single sample never decides:
 * `ready` needs 3.
 *
 * The offset applied is slewed toward the target at most `slew` ms per ms
 * (default 5 %) so `serverNow` never jumps and always moves forward (its rate
 * stays within 1 ± slew); it snaps once, when the clock first becomes ready, and
 * when the target is more than `snapMs` away (a new room, a suspended tab).
 *
 * Invariant: once ready, serverNow(now) is non-decreasing in `now` between snaps.
 * Pure bookkeeping: time is always an argument.
 */

export interface ServerClockOptions {
  window?: number; // samples kept, default 16
  slew?: number; // max offset change per ms of client time, default 0.05
  snapMs?: number; // an error larger than this snaps instead of slewing, default 1000
}

interface Sample {
  rtt: number;
  offset: number;
}

export class ServerClock {
  private readonly window: number;
  private readonly slewRate: number;
  private readonly snapMs: number;
  private samples: Sample[] = [];
  private target = 0;
  private applied = 0;
  private lastNow = -Infinity;
  private wasReady = false;
  private rttMs = 0;
  private jitterMs = 0;

  constructor(opts: ServerClockOptions = {}) {
    this.window = Math.max(3, Math.floor(opts.window ?? 16));
    this.slewRate = opts.slew ?? 0.05;
    this.snapMs = opts.snapMs ?? 1000;
  }

  /** One ping/pong: client send time t0, the server's room time from PONG, client receive time t1 (all ms). */
  sample(t0: number, serverTime: number, t1: number): void {
    const rtt = t1 - t0;
    if (!Number.isFinite(rtt) || rtt < 0 || !Number.isFinite(serverTime)) return; // a pong we cannot place
    this.samples.push({ rtt, offset: serverTime + rtt / 2 - t1 });
    if (this.samples.length > this.window) this.samples.shift();
    this.estimate();
    if (!this.ready) {
      this.applied = this.target; // provisional, no promise of smoothness before ready
      return;
    }
    if (!this.wasReady || Math.abs(this.target - this.applied) > this.snapMs) {
      this.applied = this.target;
      this.wasReady = true;
    }
  }

  /** Estimated server room time at client time `now` (ms); slews toward the current estimate. */
  serverNow(now: number): number {
    if (now > this.lastNow) {
      if (this.wasReady && this.lastNow > -Infinity) {
        const max = (now - this.lastNow) * this.slewRate;
        this.applied += Math.min(max, Math.max(-max, this.target - this.applied));
      }
      this.lastNow = now;
    }
    return now + this.applied;
  }

  /** Forget everything (e.g. a connection to another room, whose clock is unrelated). */
  reset(): void {
    this.samples = [];
    this.target = this.applied = this.rttMs = this.jitterMs = 0;
    this.wasReady = false;
  }

  get ready(): boolean {
    return this.samples.length >= 3;
  }

  /** Median round-trip time of the window, ms. */
  get rtt(): number {
    return this.rttMs;
  }

  /** Mean absolute deviation of the window's RTTs from their median, ms. */
  get jitter(): number {
    return this.jitterMs;
  }

  /** Current target offset (server − client, ms), before slewing. */
  get offset(): number {
    return this.target;
  }

  private estimate(): void {
    const byRtt = [...this.samples].sort((a, b) => a.rtt - b.rtt);
    const n = byRtt.length;
    const best = byRtt.slice(0, Math.min(n, Math.max(3, Math.ceil(n / 3))));
    this.target = median(best.map((s) => s.offset));
    this.rttMs = median(byRtt.map((s) => s.rtt));
    let dev = 0;
    for (const s of byRtt) dev += Math.abs(s.rtt - this.rttMs);
    this.jitterMs = dev / n;
  }
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
