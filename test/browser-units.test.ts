/** Pure parts of the browser client, on virtual time (no DOM): routes, input pacing, meters, status words. */
import { describe, expect, it } from 'vitest';
import { BTN_FIRE, BTN_RIGHT } from '../game/sim/constants.ts';
import type { Input } from '../game/sim/state.ts';
import { CounterRate, RateMeter, SampleRing } from '../game/client/src/metrics.ts';
import { InputPacer } from '../game/client/src/pacer.ts';
import { codeFrom, parseRoute, shareLink } from '../game/client/src/route.ts';
import { closeMessage, describe as describeConn } from '../game/client/src/status.ts';
import { CLOSE_REPLACED } from '../netcode/protocol.ts';

function pacerTarget() {
  const made: Input[] = [];
  const sent: number[] = [];
  let seq = 0;
  return {
    made, sent,
    target: {
      make: (_input: Input) => ({ seq: ++seq, bytes: new Uint8Array([seq]) }),
      send: (bytes: Uint8Array) => sent.push(bytes[0]),
      made: (_seq: number, input: Input) => made.push(input),
    },
  };
}

describe('client routes', () => {
  it('parses share links and codes', () => {
    expect(parseRoute('#/r/abcde')).toEqual({ kind: 'room', code: 'ABCDE' });
    expect(parseRoute('#/r/ABCD')).toEqual({ kind: 'lobby' });
    expect(parseRoute('')).toEqual({ kind: 'lobby' });
    expect(shareLink({ origin: 'http://h:1', pathname: '/' }, 'QWERT')).toBe('http://h:1/#/r/QWERT');
    expect(codeFrom(' http://h:1/?lag=5#/r/qwert ')).toBe('QWERT');
    expect(codeFrom('nope!')).toBeNull();
  });
});

describe('input pacer', () => {
  it('sends one input per tick at any frame rate, at once after a welcome', () => {
    const p = new InputPacer();
    const t = pacerTarget();
    p.welcome();
    expect(p.step(0, 1000 / 30, BTN_RIGHT, 0, t.target)).toBe(1);
    let n = 0;
    for (let i = 0; i < 60; i++) n += p.step(1000 / 60, 1000 / 30, BTN_RIGHT, 0, t.target); // 1 s at 60 fps
    expect(n).toBeGreaterThanOrEqual(29);
    expect(n).toBeLessThanOrEqual(30);
    for (let i = 0; i < 10; i++) n += p.step(100, 1000 / 30, BTN_RIGHT, 0, t.target); // 1 s at 10 fps
    expect(n).toBeGreaterThanOrEqual(59);
  });

  it('sends a slow frame\'s batch as its last message and drops a long stall', () => {
    const p = new InputPacer();
    const t = pacerTarget();
    expect(p.step(200, 1000 / 30, 0, 0, t.target)).toBe(6);
    expect(t.sent).toEqual([6]); // one message: the sixth carries the tail of all six
    expect(p.step(10_000, 1000 / 30, 0, 0, t.target)).toBe(8); // clamp: maxInputsPerMessage
  });

  it('latches a click shorter than a tick', () => {
    const p = new InputPacer();
    const t = pacerTarget();
    p.step(10, 1000 / 30, BTN_FIRE, 0, t.target); // pressed between ticks
    p.step(30, 1000 / 30, 0, 0, t.target); // released before the tick
    expect(t.made.map((i) => i.buttons & BTN_FIRE)).toEqual([BTN_FIRE]);
  });
});

describe('meters', () => {
  it('rates and quantiles over windows of virtual time', () => {
    const r = new RateMeter(1000);
    for (let t = 0; t < 2000; t += 100) r.add(t);
    expect(r.rate(1999)).toBe(10);
    const c = new CounterRate(1000);
    c.sample(0, 0);
    c.sample(500, 1000);
    expect(c.rate(600)).toBe(1000);
    const s = new SampleRing(4);
    for (const v of [9, 1, 2, 3, 4]) s.add(v);
    expect(s.quantile(0.95)).toBe(4);
    expect(s.mean()).toBe(2.5);
    expect(s.peak).toBe(9); // the largest ever added, though the ring has dropped it
  });
});

describe('connection words', () => {
  it('says what the socket is doing', () => {
    expect(describeConn('open', true, null, 0).text).toBe('Connected');
    expect(describeConn('reconnecting', false, 2500, 1000)).toEqual({ state: 'reconnecting', text: 'Reconnecting in 2 s…' });
    expect(describeConn('offline', false, null, 0).state).toBe('offline');
    expect(closeMessage(CLOSE_REPLACED, 'replaced by a newer connection')).toMatch(/another tab/);
  });
});
