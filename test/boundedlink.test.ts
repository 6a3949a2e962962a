import { describe, expect, it } from 'vitest';
import { BoundedLink } from '../server/transport.ts';

/** A socket model: sends and publishes add to what it holds, the kernel drains it at random. */
class ModelLink extends BoundedLink {
  holds = 0;
  asks = 0;
  subscribed = true;
  protected socketBuffered(): number {
    this.asks++;
    return this.holds;
  }
  send(bytes: Uint8Array): void {
    this.counted(bytes.byteLength);
    this.holds += bytes.byteLength;
  }
  close(): void {}
  join(on: boolean): void {
    this.subscribed = on;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('BoundedLink', () => {
  it('answers exactly as asking the socket every time would, under random sends, publishes and drains', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const link = new ModelLink();
      const limit = 500 + Math.floor(r() * 4000);
      let published = 0;
      for (let tick = 0; tick < 300; tick++) {
        if (r() < 0.3) link.send(new Uint8Array(Math.floor(r() * 300)));
        const size = Math.floor(r() * 400);
        published += size;
        if (link.subscribed) link.holds += size; // a publish reaches only subscribers, but counts for all
        if (r() < 0.05) link.join(!link.subscribed);
        if (r() < 0.5) link.holds = Math.max(0, link.holds - Math.floor(r() * 600)); // the kernel took some
        expect(link.backedUp(limit, published), `seed ${seed} tick ${tick}`).toBe(link.holds > limit);
      }
    }
  });

  it('asks a healthy socket about once per limit of bytes sent, and a backed-up one every time', () => {
    const link = new ModelLink();
    let published = 0;
    for (let tick = 0; tick < 1000; tick++) {
      published += 200;
      link.holds = 0; // drained at once: a healthy client
      expect(link.backedUp(64 * 1024, published)).toBe(false);
    }
    expect(link.asks).toBeLessThanOrEqual(Math.ceil((1000 * 200) / (64 * 1024)));
    expect(link.asks).toBeGreaterThan(0);
    link.asks = 0;
    link.send(new Uint8Array(100_000)); // a big message the kernel does not take
    for (let tick = 0; tick < 10; tick++) {
      published += 200;
      link.holds += 200;
      expect(link.backedUp(64 * 1024, published)).toBe(true);
    }
    expect(link.asks).toBe(10);
  });
});
