import { describe, expect, it } from 'vitest';
import { median, ServerClock } from '../netcode/clock.ts';
import { mulberry32 } from '../netcode/netsim.ts';

const OFFSET = 123_456.7; // true server − client, ms

/** One ping at client time t0 with the given one-way delays; returns t1. */
function ping(clock: ServerClock, t0: number, up: number, down: number, offset = OFFSET): number {
  const serverTime = t0 + up + offset;
  const t1 = t0 + up + down;
  clock.sample(t0, serverTime, t1);
  return t1;
}

describe('ServerClock', () => {
  it('converges to the true offset under jitter (error well below the jitter)', () => {
    const rnd = mulberry32(11);
    const clock = new ServerClock();
    let t = 1000;
    for (let i = 0; i < 40; i++) {
      ping(clock, t, 40 + rnd() * 30, 40 + rnd() * 30); // 80–140 ms RTT, asymmetric jitter
      t += 500;
    }
    expect(clock.ready).toBe(true);
    expect(Math.abs(clock.offset - OFFSET)).toBeLessThan(5);
    expect(Math.abs(clock.serverNow(t) - (t + OFFSET))).toBeLessThan(5);
    expect(clock.rtt).toBeGreaterThan(95);
    expect(clock.rtt).toBeLessThan(125);
    expect(clock.jitter).toBeGreaterThan(5);
    expect(clock.jitter).toBeLessThan(20);
  });

  it('is ready only after 3 samples and reports median RTT and its mean absolute deviation', () => {
    const clock = new ServerClock();
    ping(clock, 0, 50, 50);
    expect(clock.ready).toBe(false);
    ping(clock, 100, 55, 55);
    expect(clock.ready).toBe(false);
    ping(clock, 200, 65, 65);
    expect(clock.ready).toBe(true);
    expect(clock.rtt).toBe(110);
    expect(clock.jitter).toBeCloseTo((10 + 0 + 20) / 3, 9);
  });

  it('ignores a high-RTT outlier, even one with a wildly wrong offset', () => {
    const clock = new ServerClock();
    let t = 0;
    for (let i = 0; i < 6; i++) {
      ping(clock, t, 30, 30);
      t += 1000;
    }
    // A stalled request: 1990 ms up, 10 ms down — taken at face value it would be ~990 ms off.
    ping(clock, t, 1990, 10);
    expect(clock.offset).toBeCloseTo(OFFSET, 6);
    expect(Math.abs(clock.serverNow(t + 2000) - (t + 2000 + OFFSET))).toBeLessThan(1e-6);
    expect(clock.rtt).toBe(60);
  });

  it('is never decided by a single sample: one asymmetric ping among symmetric ones does not move it', () => {
    const clock = new ServerClock();
    ping(clock, 0, 20, 20);
    ping(clock, 1000, 5, 35); // same RTT, 15 ms asymmetry → −15 ms offset sample
    ping(clock, 2000, 20, 20);
    expect(clock.offset).toBeCloseTo(OFFSET, 6);
  });

  it('slews toward a new offset instead of jumping, and keeps moving forward', () => {
    const clock = new ServerClock({ slew: 0.05 });
    let t = 0;
    for (let i = 0; i < 16; i++) t = ping(clock, t, 20, 20) + 460;
    let prev = clock.serverNow(t);
    expect(prev).toBeCloseTo(t + OFFSET, 6);
    // The server's clock is now 200 ms ahead of what we believed (e.g. our clock drifted).
    for (let i = 0; i < 16; i++) ping(clock, t + i, 0.01, 0.01, OFFSET + 200);
    expect(clock.offset).toBeCloseTo(OFFSET + 200, 6);
    for (let step = 0; step < 600; step++) {
      t += 10;
      const s = clock.serverNow(t);
      const d = s - prev;
      expect(d).toBeGreaterThanOrEqual(10 * 0.95 - 1e-9);
      expect(d).toBeLessThanOrEqual(10 * 1.05 + 1e-9);
      prev = s;
    }
    expect(prev).toBeCloseTo(t + OFFSET + 200, 6); // 200 ms at 0.5 ms per 10 ms: 4 s
    // …and backwards: still non-decreasing while the offset shrinks.
    for (let i = 0; i < 16; i++) ping(clock, t, 0.01, 0.01, OFFSET - 100);
    for (let step = 0; step < 100; step++) {
      t += 10;
      const s = clock.serverNow(t);
      expect(s).toBeGreaterThan(prev);
      prev = s;
    }
    expect(prev - (t + OFFSET - 100)).toBeGreaterThan(100); // not there yet: it slews
  });

  it('snaps when the estimate moves by more than snapMs (a different room), and reset() forgets', () => {
    const clock = new ServerClock();
    for (let i = 0; i < 16; i++) ping(clock, i * 100, 10, 10);
    for (let i = 0; i < 16; i++) ping(clock, 2000 + i * 100, 10, 10, -50_000);
    expect(clock.serverNow(4000)).toBeCloseTo(4000 - 50_000, 6);
    clock.reset();
    expect(clock.ready).toBe(false);
  });
});

describe('median', () => {
  it('handles odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
