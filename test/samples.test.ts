/** SampleRing: percentiles by selection must equal the nearest rank of the sorted samples. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleRing } from '../netcode/samples.ts';

const nearestRank = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

describe('SampleRing', () => {
  it('gives the nearest-rank quantile of the samples it holds, for any samples and reads in any order', () => {
    const sample = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x + 0), fc.integer({ min: 0, max: 5 })); // many repeats too; no -0 (equal to 0 in order, not to toBe)
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 64 }), fc.array(sample, { minLength: 1, maxLength: 200 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
      (size, xs, qs) => {
        const ring = new SampleRing(size);
        for (const x of xs) ring.add(x);
        const held = xs.slice(-size);
        for (const q of qs) expect(ring.quantile(q)).toBe(nearestRank(held, q));
      },
    ), { numRuns: 300 });
  });

  it('reads again after more samples come in', () => {
    const ring = new SampleRing(4);
    for (const x of [5, 1, 3]) ring.add(x);
    expect(ring.quantile(1)).toBe(5);
    ring.add(9);
    ring.add(0); // drops the 5
    expect([ring.quantile(0), ring.quantile(0.5), ring.quantile(1)]).toEqual([0, 1, 9]);
    expect(ring.peak).toBe(9);
  });
});
