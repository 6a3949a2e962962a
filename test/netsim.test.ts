import { describe, expect, it } from 'vitest';
import { mulberry32, NetSim, netSimFromQuery } from '../netcode/netsim.ts';

/** Sends `n` items every `every` ms and records each one's delivery time, polling each ms. */
function run(sim: NetSim<number>, n: number, every: number, bytes = 0): number[] {
  const arrived: number[] = [];
  const order: number[] = [];
  for (let t = 0, sent = 0; sent < n || sim.inFlight > 0; t++) {
    while (sent < n && t === sent * every) sim.send(sent++, t, bytes);
    for (const i of sim.poll(t)) {
      order.push(i);
      arrived[i] = t;
    }
    if (t > 1e6) throw new Error('never delivered');
  }
  expect(order).toEqual([...Array(n).keys()]);
  return arrived;
}

describe('NetSim', () => {
  it('delivers after exactly the latency with no jitter', () => {
    const sim = new NetSim<number>({ latency: 40 });
    sim.send(1, 100);
    expect(sim.poll(139)).toEqual([]);
    expect(sim.inFlight).toBe(1);
    expect(sim.poll(140)).toEqual([1]);
    expect(sim.inFlight).toBe(0);
    expect(sim.poll(1000)).toEqual([]);
  });

  it('keeps send order and stays within the jitter bounds', () => {
    const sim = new NetSim<number>({ latency: 50, jitter: 20, seed: 3 });
    const arrived = run(sim, 500, 5);
    let spread = 0;
    for (let i = 0; i < arrived.length; i++) {
      const late = arrived[i] - i * 5;
      expect(late).toBeGreaterThanOrEqual(30);
      // ordering may hold one back behind its predecessor, never beyond the max lateness
      expect(late).toBeLessThanOrEqual(71);
      spread = Math.max(spread, late);
      if (i > 0) expect(arrived[i]).toBeGreaterThanOrEqual(arrived[i - 1]);
    }
    expect(spread).toBeGreaterThan(60); // jitter is really applied
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const a = run(new NetSim<number>({ latency: 30, jitter: 15, loss: 0.05, seed: 7 }), 200, 10);
    const b = run(new NetSim<number>({ latency: 30, jitter: 15, loss: 0.05, seed: 7 }), 200, 10);
    const c = run(new NetSim<number>({ latency: 30, jitter: 15, loss: 0.05, seed: 8 }), 200, 10);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('turns loss into delay (a retransmit) and head-of-line blocking, never into missing items', () => {
    const sim = new NetSim<number>({ latency: 20, loss: 0.1, seed: 5 });
    const arrived = run(sim, 300, 10); // run() asserts all 300 arrive in order
    expect(sim.retransmits).toBeGreaterThan(10);
    const lates = arrived.map((t, i) => t - i * 10);
    expect(Math.min(...lates)).toBe(20);
    expect(Math.max(...lates)).toBe(240); // 20 + retransmit (200 + latency)
    // The item right after a retransmitted one waits behind it (ordered stream).
    const i = lates.indexOf(240);
    expect(lates[i + 1]).toBeGreaterThan(200);
  });

  it('loss 1 delays everything, loss 0 nothing', () => {
    const all = run(new NetSim<number>({ latency: 10, loss: 1, retransmit: 100 }), 5, 50);
    expect(all.map((t, i) => t - i * 50)).toEqual([110, 110, 110, 110, 110]);
  });

  it('serializes at the bandwidth: bytes / (bytes/s) per message', () => {
    const sim = new NetSim<number>({ latency: 10, bandwidth: 10_000 }); // 1000 B take 100 ms
    const arrived = run(sim, 5, 0, 1000);
    expect(arrived).toEqual([110, 210, 310, 410, 510]);
    // An idle link does not bank capacity.
    const s2 = new NetSim<number>({ latency: 0, bandwidth: 1000 });
    s2.send(1, 0, 100); // leaves at 100
    s2.send(2, 500, 100); // link idle since 100: leaves at 600
    expect(s2.poll(599)).toEqual([1]);
    expect(s2.poll(600)).toEqual([2]);
  });
});

describe('mulberry32', () => {
  it('is deterministic, in [0, 1) and roughly uniform', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    expect(sum / 10_000).toBeCloseTo(0.5, 1);
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
  });
});

describe('netSimFromQuery', () => {
  it('parses lag (one-way, both directions), jitter, loss, bw, seed', () => {
    expect(netSimFromQuery('?lag=100&jitter=20&loss=0.02&seed=7')).toEqual({ latency: 100, jitter: 20, loss: 0.02, seed: 7 });
    expect(netSimFromQuery('lag=50&bw=64000')).toEqual({ latency: 50, seed: 1, bandwidth: 64000 });
    expect(netSimFromQuery('?jitter=15')).toEqual({ latency: 0, jitter: 15, seed: 1 });
  });

  it('returns null without lag/jitter/loss and clamps or ignores bad values', () => {
    expect(netSimFromQuery('')).toBeNull();
    expect(netSimFromQuery('?room=ABCDE&seed=3')).toBeNull();
    expect(netSimFromQuery('?lag=abc')).toBeNull();
    expect(netSimFromQuery('?lag=-5&loss=7')).toEqual({ latency: 0, loss: 1, seed: 1 });
  });
});
