import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP, type Input, movePlayer } from '../game/sim/index.ts';
import { Predictor, type Vec } from '../netcode/predict.ts';

const DT = 1 / 30;
const step = (p: Vec, i: Input, dt: number): Vec => movePlayer(p.x, p.y, i.buttons, dt);
const make = (over: { smoothMs?: number; snapDistance?: number } = {}) => new Predictor<Input>({ dt: DT, step, ...over });
const RIGHT: Input = { buttons: BTN_RIGHT, aim: 0 };

/** What the authority computes: the same step over the first `n` inputs. */
function authority(start: Vec, inputs: readonly Input[], n: number): Vec {
  let p = start;
  for (let i = 0; i < n; i++) p = step(p, inputs[i], DT);
  return p;
}

describe('Predictor', () => {
  it('replays pending inputs exactly: reconciling with the authority corrects nothing', () => {
    const buttons = fc.constantFrom(0, BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP | BTN_LEFT, BTN_DOWN | BTN_RIGHT, BTN_UP | BTN_RIGHT);
    fc.assert(
      fc.property(fc.array(buttons, { minLength: 1, maxLength: 120 }), fc.array(fc.nat(), { maxLength: 10 }), (btns, acks) => {
        const start = { x: 400, y: 300 };
        const inputs = btns.map((b) => ({ buttons: b, aim: 0 }));
        const pr = make();
        pr.reset(start, 0);
        for (let i = 0; i < inputs.length; i++) pr.apply(i + 1, inputs[i]);
        const predicted = pr.position;
        expect(predicted).toEqual(authority(start, inputs, inputs.length));
        // Acks arrive in order, anywhere in the sequence.
        for (const a of [...acks.map((k) => k % (inputs.length + 1))].sort((x, y) => x - y)) {
          expect(pr.reconcile(authority(start, inputs, a), a, a * 33)).toBe(0);
          expect(pr.position).toEqual(predicted);
          expect(pr.pendingCount).toBe(inputs.length - a);
        }
        expect(pr.stats.corrections).toBe(0);
        expect(pr.renderPosition(1e6)).toEqual(predicted);
      }),
      { numRuns: 200 },
    );
  });

  it('replays from the server position: a wrong prediction is corrected and counted', () => {
    const pr = make();
    pr.reset({ x: 100, y: 100 }, 0);
    for (let s = 1; s <= 10; s++) pr.apply(s, RIGHT);
    const before = pr.position;
    // The authority placed us 3 u right and 4 u down of where we thought after input 4.
    const mine4 = authority({ x: 100, y: 100 }, Array(4).fill(RIGHT), 4);
    const d = pr.reconcile({ x: mine4.x + 3, y: mine4.y + 4 }, 4, 1000);
    expect(d).toBeCloseTo(5, 9);
    expect(pr.position).toEqual(authority({ x: mine4.x + 3, y: mine4.y + 4 }, Array(6).fill(RIGHT), 6));
    expect(pr.pendingCount).toBe(6);
    expect(pr.stats).toMatchObject({ corrections: 1, maxCorrection: 5, snaps: 0 });
    expect(pr.stats.lastCorrection).toBeCloseTo(5, 9);
    expect(before.x - pr.position.x).toBeCloseTo(-3, 9);
  });

  it('fades the visible error linearly over smoothMs', () => {
    const pr = make({ smoothMs: 100 });
    pr.reset({ x: 500, y: 500 }, 0);
    pr.apply(1, { buttons: 0, aim: 0 });
    pr.reconcile({ x: 506, y: 508 }, 1, 1000); // 10 u away: prediction jumps, the drawing does not
    expect(pr.position).toEqual({ x: 506, y: 508 });
    expect(pr.renderPosition(1000)).toEqual({ x: 500, y: 500 });
    const mid = pr.renderPosition(1050);
    expect(mid.x).toBeCloseTo(503, 9);
    expect(mid.y).toBeCloseTo(504, 9);
    expect(pr.errorAt(1075)).toBeCloseTo(2.5, 9);
    expect(pr.renderPosition(1100)).toEqual({ x: 506, y: 508 });
    expect(pr.renderPosition(5000)).toEqual({ x: 506, y: 508 });
  });

  it('adds a new correction to what is still visible of the last one', () => {
    const pr = make({ smoothMs: 100 });
    pr.reset({ x: 500, y: 500 }, 0);
    pr.reconcile({ x: 510, y: 500 }, 0, 0); // offset −10, fades
    pr.reconcile({ x: 520, y: 500 }, 0, 50); // half (−5) left, plus −10
    expect(pr.renderPosition(50).x).toBeCloseTo(505, 9);
    expect(pr.renderPosition(100).x).toBeCloseTo(512.5, 9);
    expect(pr.stats.corrections).toBe(2);
    expect(pr.stats.maxCorrection).toBe(10);
  });

  it('snaps instantly when the error exceeds snapDistance (a teleport)', () => {
    const pr = make({ snapDistance: 64 });
    pr.reset({ x: 100, y: 100 }, 0);
    pr.apply(1, RIGHT);
    const d = pr.reconcile({ x: 900, y: 700 }, 1, 10);
    expect(d).toBeGreaterThan(64);
    expect(pr.renderPosition(10)).toEqual({ x: 900, y: 700 });
    expect(pr.stats.snaps).toBe(1);
    // …while one just under the limit is smoothed.
    const d2 = pr.reconcile({ x: 960, y: 700 }, 1, 20);
    expect(d2).toBe(60);
    expect(pr.renderPosition(20)).toEqual({ x: 900, y: 700 });
  });

  it('bounds the pending inputs and drops the oldest; reset clears them and the offset', () => {
    const pr = make();
    pr.reset({ x: 800, y: 600 }, 0);
    for (let s = 1; s <= 200; s++) pr.apply(s, { buttons: 0, aim: 0 });
    expect(pr.pendingCount).toBe(128);
    pr.reconcile({ x: 800, y: 600 }, 100, 0);
    expect(pr.pendingCount).toBe(100);
    pr.reconcile({ x: 810, y: 600 }, 150, 0);
    pr.reset({ x: 50, y: 60 }, 5);
    expect(pr.pendingCount).toBe(0);
    expect(pr.renderPosition(5)).toEqual({ x: 50, y: 60 });
  });

  it('rebase jumps to a teleport target, replays the inputs still in flight, and counts no correction', () => {
    const pr = new Predictor<number>({ dt: 1, step: (p, i) => ({ x: p.x + i, y: p.y }) });
    pr.reset({ x: 0, y: 0 }, 0);
    for (let seq = 1; seq <= 5; seq++) pr.apply(seq, 1);
    pr.rebase({ x: 100, y: 50 }, 3, 10); // respawned at (100, 50) as of input 3; inputs 4 and 5 still in flight
    expect(pr.position).toEqual({ x: 102, y: 50 });
    expect(pr.renderPosition(10)).toEqual({ x: 102, y: 50 }); // no smoothing of a teleport
    expect(pr.stats.corrections).toBe(0);
    expect(pr.reconcile({ x: 101, y: 50 }, 4, 20)).toBe(0); // and the next snapshot agrees exactly
  });
});
