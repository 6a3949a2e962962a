import { describe, expect, it } from 'vitest';
import { Interpolator, lerp, lerpAngle } from '../netcode/interpolate.ts';
import { mulberry32 } from '../netcode/netsim.ts';

const P = 1000 / 30; // ms per tick

interface RunResult {
  renders: number[]; // renderTick per frame
  delays: number[];
  buffers: number[];
  extrapolated: number;
  frames: number;
}

/**
 * Server ticks every P ms (server time = client time here); snapshot T arrives
 * lateness(T) ms after it was made, in order. Frames every 16 ms render.
 */
function run(interp: Interpolator, fromMs: number, toMs: number, lateness: (tick: number) => number | null, held: number[]): RunResult {
  const res: RunResult = { renders: [], delays: [], buffers: [], extrapolated: 0, frames: 0 };
  const arrivals: { tick: number; at: number }[] = [];
  let lastAt = -Infinity;
  for (let tick = Math.ceil(fromMs / P); tick * P < toMs; tick++) {
    const l = lateness(tick);
    if (l === null) continue; // not sent
    lastAt = Math.max(lastAt, tick * P + l);
    arrivals.push({ tick, at: lastAt });
  }
  let a = 0;
  for (let t = fromMs; t < toMs; t++) {
    while (a < arrivals.length && arrivals[a].at <= t) {
      interp.onSnapshot(arrivals[a].tick, t, t);
      held.push(arrivals[a].tick);
      if (held.length > 32) held.shift();
      a++;
    }
    if (t % 16 === 0) {
      const r = interp.renderTick(t);
      const b = interp.bracket(r, held);
      res.renders.push(r);
      res.delays.push(interp.delay);
      res.buffers.push(interp.bufferMs);
      res.frames++;
      if (b?.extrapolating) res.extrapolated++;
    }
  }
  return res;
}

describe('Interpolator', () => {
  it('on a steady link renders at server time − transit − delay, with a small delay', () => {
    const interp = new Interpolator({ period: P });
    const held: number[] = [];
    const r = run(interp, 0, 5000, () => 50, held);
    // Arrivals are seen on a 1 ms poll, so lateness reads 50–51 ms.
    expect(interp.transit).toBeGreaterThanOrEqual(50);
    expect(interp.transit).toBeLessThan(51);
    expect(interp.jitter).toBeLessThan(0.5);
    expect(interp.delay).toBeCloseTo(1.5 * P, 6);
    expect(interp.delay).toBeLessThan(2.5 * P);
    expect(interp.renderTick(5000)).toBeCloseTo((5000 - interp.transit - 1.5 * P) / P, 6);
    expect(r.extrapolated).toBe(0);
    expect(Math.min(...r.buffers.slice(10))).toBeGreaterThan(0.4 * P);
  });

  it('brackets held ticks with the right alpha, across gaps and at the ends', () => {
    const interp = new Interpolator({ period: P, maxExtrapolate: 100 });
    const ticks = [10, 11, 12, 14];
    expect(interp.bracket(11.25, ticks)).toEqual({ from: 11, to: 12, alpha: 0.25, extrapolating: false });
    expect(interp.bracket(13, ticks)).toEqual({ from: 12, to: 14, alpha: 0.5, extrapolating: false });
    expect(interp.bracket(14, ticks)).toEqual({ from: 12, to: 14, alpha: 1, extrapolating: false });
    expect(interp.bufferMs).toBeCloseTo(0, 9);
    expect(interp.bracket(9, ticks)).toEqual({ from: 10, to: 10, alpha: 0, extrapolating: false });
    expect(interp.bufferMs).toBeCloseTo(5 * P, 9);
    const ex = interp.bracket(15, ticks);
    expect(ex).toMatchObject({ from: 12, to: 14, extrapolating: true });
    expect(ex?.alpha).toBeCloseTo(1.5, 9);
    expect(interp.bracket(5, [])).toBeNull();
    expect(interp.bracket(6, [5])).toEqual({ from: 5, to: 5, alpha: 1, extrapolating: true });
  });

  it('caps extrapolation at maxExtrapolate ms when starving', () => {
    const interp = new Interpolator({ period: P, maxExtrapolate: 100 });
    const held: number[] = [];
    run(interp, 0, 3000, () => 20, held);
    // The server goes silent for a second: nothing more arrives.
    const r = run(interp, 3000, 4000, () => null, held);
    const newest = held[held.length - 1];
    const b = interp.bracket(interp.renderTick(4000), held);
    expect(b?.extrapolating).toBe(true);
    // 100 ms = 3 ticks past the newest, measured from the tick before it.
    expect(b?.alpha).toBeCloseTo((newest + 100 / P - (newest - 1)) / 1, 6);
    expect(interp.bufferMs).toBeLessThan(-500);
    expect(interp.stats.starved).toBeGreaterThan(0);
    expect(r.extrapolated).toBeGreaterThan(50);
  });

  it('grows the delay with measured jitter (≈ period + 2.5 × jitter), bounded by maxDelay', () => {
    const rnd = mulberry32(4);
    const interp = new Interpolator({ period: P });
    const held: number[] = [];
    run(interp, 0, 3000, () => 50, held);
    const steady = interp.delay;
    const r = run(interp, 3000, 13_000, () => 50 + rnd() * 60, held); // ±30 ms
    expect(interp.jitter).toBeGreaterThan(10);
    expect(interp.jitter).toBeLessThan(20);
    expect(interp.delay).toBeGreaterThan(steady + 15);
    expect(interp.delay).toBeCloseTo(P + 2.5 * interp.jitter, 0);
    // With the adapted delay, starving is rare (it took a while to grow at first).
    const late = r.extrapolated / r.frames;
    expect(late).toBeLessThan(0.05);

    const wild = new Interpolator({ period: P, maxDelay: 300 });
    run(wild, 0, 20_000, () => rnd() * 2000, []);
    expect(wild.delay).toBeLessThanOrEqual(300);
    expect(wild.delay).toBeGreaterThan(250);
  });

  it('never goes back in time while the delay grows and shrinks', () => {
    const rnd = mulberry32(9);
    const interp = new Interpolator({ period: P });
    const held: number[] = [];
    const rs: number[] = [];
    for (let phase = 0; phase < 6; phase++) {
      const spread = phase % 2 ? 150 : 0;
      const r = run(interp, phase * 4000, (phase + 1) * 4000, () => 40 + rnd() * spread, held);
      rs.push(...r.renders);
      if (phase === 1) expect(Math.max(...r.delays)).toBeGreaterThan(90);
      if (phase === 2) expect(r.delays[r.delays.length - 1]).toBeLessThan(Math.max(...r.delays));
    }
    for (let i = 5; i < rs.length; i++) {
      // from the first snapshot (40 ms) on
      const d = (rs[i] - rs[i - 1]) * P; // render ms per 16 ms frame
      expect(d).toBeGreaterThanOrEqual(16 * 0.85 - 1e-6);
      // Catching up speeds time by the excess / 2 s on top of the base slews; the delay's excess is ≤ maxDelay.
      expect(d).toBeLessThanOrEqual(16 * (1 + 0.02 + 0.05 + 500 / 2000) + 1e-6);
    }
  });

  it('drains the lag a long stall left behind within seconds, not half a minute', () => {
    const interp = new Interpolator({ period: P });
    const held: number[] = [];
    run(interp, 0, 4000, () => 40, held);
    run(interp, 4000, 24000, () => 900, held); // snapshots ~1 s late for a long while: transit follows, slowly
    expect(interp.transit).toBeGreaterThan(600);
    run(interp, 24000, 30000, () => 40, held); // the link is healthy again
    expect(interp.transit).toBeLessThan(150);
  });
});

describe('lerp / lerpAngle', () => {
  it('lerps numbers, extrapolating past 1', () => {
    expect(lerp(10, 20, 0)).toBe(10);
    expect(lerp(10, 20, 0.25)).toBe(12.5);
    expect(lerp(10, 20, 1.5)).toBe(25);
  });

  it('takes the short way round', () => {
    const TAU = Math.PI * 2;
    const deg = (d: number): number => (d / 360) * TAU;
    const norm = (r: number): number => ((r % TAU) + TAU) % TAU;
    expect(norm(lerpAngle(deg(350), deg(10), 0.5))).toBeCloseTo(0, 9); // via 0°, not 180°
    expect(lerpAngle(deg(10), deg(350), 0.25)).toBeCloseTo(deg(5), 9);
    expect(lerpAngle(deg(90), deg(180), 0.5)).toBeCloseTo(deg(135), 9);
    expect(lerpAngle(deg(0), deg(720 + 30), 1)).toBeCloseTo(deg(30), 9);
    expect(lerpAngle(1, 1, 0.7)).toBe(1);
  });
});
