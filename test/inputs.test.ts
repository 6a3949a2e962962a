import { describe, expect, it } from 'vitest';
import { BTN_ALL, BTN_FIRE, BTN_RIGHT, BTN_UP, movePlayer } from '../game/sim/index.ts';
import { InputQueue } from '../server/inputqueue.ts';

const DT = 1 / 30;
const frames = (first: number, buttons: number[], aim = 0) => buttons.map((b, i) => ({ seq: first + i, buttons: b, aim }));
const q = (o: Partial<{ limit: number; maxPerTick: number; reuseTicks: number }> = {}) =>
  new InputQueue({ limit: 16, maxPerTick: 3, reuseTicks: 4, ...o });
const at = { x: 400, y: 400 };

describe('InputQueue', () => {
  it('applies inputs once each, in sequence order, ignoring redundant copies', () => {
    const iq = q();
    expect(iq.push(frames(1, [1, 2, 4]), 0)).toBe(3);
    expect(iq.push(frames(2, [2, 4, 8]), 0)).toBe(1); // 2 and 3 already held
    const applied = [1, 2, 3, 4].flatMap(() => iq.plan(at, 1, true, DT).inputs.map((i) => i.buttons));
    expect(applied).toEqual([1, 2, 4, 8]); // one step of credit a tick
    expect(iq.lastSeq).toBe(4);
  });

  it('clamps values to the known buttons and 16 bits of aim', () => {
    const iq = q();
    iq.push([{ seq: 1, buttons: 0xff, aim: 0x1ffff }], 0);
    const [input] = iq.plan(at, 1, true, DT).inputs;
    expect(input.buttons).toBe(BTN_ALL);
    expect(input.aim).toBe(0xffff);
  });

  it('applies at most maxPerTick inputs a tick, even with credit saved up, and keeps the rest for later ticks', () => {
    const iq = q({ maxPerTick: 2 });
    for (let t = 0; t < 5; t++) iq.plan(at, 1, true, DT); // idle ticks save credit, capped at 2
    iq.push(frames(1, [1, 1, 1, 1, 1]), 0);
    expect(iq.plan(at, 1, true, DT).inputs).toHaveLength(2);
    expect(iq.plan(at, 1, true, DT).inputs).toHaveLength(1);
    expect(iq.plan(at, 1, true, DT).inputs).toHaveLength(1);
    expect(iq.lastSeq).toBe(4);
  });

  it('refuses inputs beyond the queue limit (a client sending faster than the tick)', () => {
    const iq = q({ limit: 4 });
    expect(iq.push(frames(1, [1, 1, 1, 1, 1, 1]), 0)).toBe(4);
    expect(iq.refused).toBe(1);
    expect(iq.pending).toBe(4);
  });

  it('reuses the latest input when none arrived, without consuming a sequence number', () => {
    const iq = q({ reuseTicks: 2 });
    iq.push(frames(1, [BTN_RIGHT]), 0);
    iq.plan(at, 1, true, DT);
    const g1 = iq.plan(at, 1, true, DT);
    expect(g1.inputs.map((i) => i.buttons)).toEqual([BTN_RIGHT]);
    expect(iq.lastSeq).toBe(1);
    expect(iq.anchor).toEqual(at);
    iq.plan(at, 1, true, DT);
    expect(iq.plan(at, 1, true, DT).inputs).toHaveLength(0); // reuse bounded
  });

  it('re-simulates guessed steps with the real inputs when they arrive late', () => {
    const iq = q();
    iq.push(frames(1, [BTN_RIGHT]), 0);
    let pos = at;
    const apply = (plan: ReturnType<InputQueue['plan']>) => {
      if (plan.setPos) pos = plan.setPos;
      for (const i of plan.inputs) pos = movePlayer(pos.x, pos.y, i.buttons, DT);
    };
    apply(iq.plan(pos, 1, true, DT)); // seq 1: right
    apply(iq.plan(pos, 1, true, DT)); // guess: right again
    apply(iq.plan(pos, 1, true, DT)); // guess: right again
    // The real seq 2 and 3 were "up": the guesses are replaced.
    iq.push(frames(2, [BTN_UP, BTN_UP, BTN_UP]), 0);
    apply(iq.plan(pos, 1, true, DT));
    let want = at;
    for (const b of [BTN_RIGHT, BTN_UP, BTN_UP, BTN_UP]) want = movePlayer(want.x, want.y, b, DT);
    expect(pos).toEqual(want);
    expect(iq.lastSeq).toBe(4);
    expect(iq.anchor).toBeNull();
  });

  it('never loses a shot fired in an input that arrived after its step was guessed', () => {
    const iq = q();
    iq.push(frames(1, [0]), 0);
    iq.plan(at, 1, true, DT);
    iq.plan(at, 1, true, DT); // guess of seq 2: no fire
    iq.push(frames(2, [BTN_FIRE]), 0);
    const plan = iq.plan(at, 1, true, DT);
    expect(plan.inputs.some((i) => i.buttons & BTN_FIRE)).toBe(true);
  });

  it('a rejoin drops inputs queued for the old socket and accepts the resend', () => {
    const iq = q();
    iq.push(frames(1, [1, 1, 1]), 0);
    iq.plan(at, 1, true, DT);
    iq.push(frames(4, [2, 2]), 0);
    iq.rejoin();
    expect(iq.pending).toBe(0);
    expect(iq.push(frames(4, [2, 2]), 0)).toBe(2);
  });

  it('bounds speed by the tick, whatever the client sends (no speed hack from extra inputs)', () => {
    const iq = q({ limit: 64, maxPerTick: 3 });
    let seq = 1;
    let applied = 0;
    for (let t = 0; t < 300; t++) {
      iq.push(frames(seq, [BTN_RIGHT, BTN_RIGHT, BTN_RIGHT]), 0); // three new inputs every tick
      seq += 3;
      applied += iq.plan(at, 1, true, DT).inputs.length;
    }
    expect(applied).toBeLessThanOrEqual(Math.ceil(300 * (1 + 1 / 32)) + 3);
    expect(applied).toBeGreaterThanOrEqual(300);
    expect(iq.refused).toBeGreaterThan(0);
  });

  it('still catches up a backlog after a stall', () => {
    const iq = q({ maxPerTick: 3 });
    iq.push(frames(1, [1]), 0);
    iq.plan(at, 1, false, DT);
    for (let t = 0; t < 3; t++) iq.plan(at, 1, false, DT); // a stall: nothing arrives, nothing guessed
    iq.push(frames(2, [1, 1, 1, 1]), 0);
    expect(iq.plan(at, 1, true, DT).inputs).toHaveLength(3);
    expect(iq.plan(at, 1, true, DT).inputs).toHaveLength(1);
  });

  it('never guesses a shot', () => {
    const iq = q();
    iq.push(frames(1, [BTN_FIRE | BTN_RIGHT]), 0);
    iq.plan(at, 1, true, DT);
    const guess = iq.plan(at, 1, true, DT).inputs;
    expect(guess.map((i) => i.buttons)).toEqual([BTN_RIGHT]);
  });
});
