import { describe, expect, it } from 'vitest';
import { EARLY_MS, TickScheduler } from '../server/scheduler.ts';

describe('TickScheduler (virtual time)', () => {
  it('runs exactly one tick per period when woken on time', () => {
    const s = new TickScheduler({ rate: 30, maxCatchUp: 5, now: 0 });
    let ticks = 0;
    for (let now = 0; now <= 1000; now += 1) ticks += s.due(now);
    expect(ticks).toBe(30);
  });

  it('catches up missed ticks when woken late, within the clamp', () => {
    const s = new TickScheduler({ rate: 20, maxCatchUp: 5, now: 0 });
    expect(s.due(48.9)).toBe(0);
    expect(s.due(150)).toBe(3); // ticks due at 50, 100, 150
    expect(s.dropped).toBe(0);
    expect(s.wait(150)).toBe(50 - EARLY_MS);
  });

  it('drops the backlog beyond maxCatchUp after a stall and counts it', () => {
    const s = new TickScheduler({ rate: 20, maxCatchUp: 4, now: 0 });
    expect(s.due(1000)).toBe(4); // 20 owed
    expect(s.dropped).toBe(16);
    expect(s.due(1000)).toBe(0);
    expect(s.due(1050)).toBe(1); // back on the original grid, no burst
  });

  it('does not drift over a simulated hour of jittery wake-ups', () => {
    const rate = 30;
    const s = new TickScheduler({ rate, maxCatchUp: 5, now: 0 });
    let ticks = 0;
    let now = 0;
    let seed = 1;
    while (now < 3600_000) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      now += s.wait(now) + (seed % 7); // timers wake 0–6 ms late
      ticks += s.due(now);
    }
    expect(s.dropped).toBe(0);
    expect(ticks).toBe(Math.floor(((now + EARLY_MS) * rate) / 1000));
  });

  it('takes a wake-up up to EARLY_MS before the due time, never earlier', () => {
    const s = new TickScheduler({ rate: 20, maxCatchUp: 5, now: 0 });
    expect(s.due(50 - EARLY_MS - 0.01)).toBe(0);
    expect(s.wait(50 - EARLY_MS - 0.01)).toBeCloseTo(0.01, 9);
    expect(s.due(50 - EARLY_MS)).toBe(1);
    expect(s.due(99)).toBe(1); // the next one, also a millisecond early
    expect(s.due(99.5)).toBe(0);
  });
});
