/** The rate limit every client message passes (and chat): a token bucket kept as GCRA. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../server/ratelimit.ts';

const takes = (b: TokenBucket, at: number, n: number) => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (b.take(at)) ok++;
  return ok;
};

describe('TokenBucket', () => {
  it('allows a burst at once, then one per interval', () => {
    const b = new TokenBucket(90, 60, 1000);
    expect(takes(b, 1000, 100)).toBe(60);
    expect(b.take(1000 + 5)).toBe(false); // 5 ms earn less than one (11.1 ms each)
    expect(b.take(1000 + 11.2)).toBe(true);
    expect(b.take(1000 + 11.3)).toBe(false);
  });

  it('holds the rate over time whatever the pattern: 90 a second plus the burst', () => {
    const b = new TokenBucket(90, 60, 0);
    let ok = 0;
    for (let t = 0; t <= 10_000; t += 7) ok += takes(b, t, 3); // asks ~430 a second
    expect(ok).toBeGreaterThanOrEqual(60 + 900 - 2);
    expect(ok).toBeLessThanOrEqual(60 + 901);
  });

  it('earns back the whole burst after a quiet spell, no more', () => {
    const b = new TokenBucket(1, 5, 0); // chat: 1 a second, 5 at once
    expect(takes(b, 0, 10)).toBe(5);
    expect(takes(b, 60_000, 10)).toBe(5);
    expect(takes(b, 60_500, 10)).toBe(0);
    expect(takes(b, 61_000, 10)).toBe(1);
  });

  it('gives exactly the burst at once for any rate and burst the config allows', () => {
    for (const [rate, burst] of [[90, 60], [7000, 10000], [9960, 1000], [1, 1], [10000, 10000], [3, 7]]) {
      expect(takes(new TokenBucket(rate, burst, 5e6), 5e6, burst + 10), `${rate}/s, burst ${burst}`).toBe(burst);
    }
  });

  it('works with fractional rates and bursts (floor of the burst at once)', () => {
    const b = new TokenBucket(0.5, 2.5, 0);
    expect(takes(b, 0, 10)).toBe(2);
    expect(b.take(999)).toBe(false); // the half token left plus 0.4995 earned
    expect(b.take(1001)).toBe(true);
  });
});
