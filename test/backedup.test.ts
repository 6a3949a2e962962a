/**
 * The per-tick backpressure check answers from a bound kept in the seat row
 * (`seatBackedUp`), asking the socket only when the bound passes the limit.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../server/config.ts';
import { Member } from '../server/member.ts';
import { seatContext } from '../server/seats.ts';
import type { Link } from '../server/transport.ts';

/** A socket model: sends and publishes add to what it holds, the kernel drains it at random. */
class ModelLink implements Link {
  holds = 0;
  asks = 0;
  subscribed = true;
  buffered(): number {
    this.asks++;
    return this.holds;
  }
  send(bytes: Uint8Array): void {
    this.holds += bytes.byteLength;
  }
  close(): void {}
  join(on: boolean): void {
    this.subscribed = on;
  }
}

function member(link: Link): Member {
  const cfg = defaultConfig();
  return new Member('s', 'n', link, 0, cfg, seatContext(cfg, 2));
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('Member.backedUp (seatBackedUp)', () => {
  it('answers exactly as asking the socket every time would, under random sends, publishes and drains', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const link = new ModelLink();
      const m = member(link);
      const limit = 500 + Math.floor(r() * 4000);
      let published = 0;
      for (let tick = 0; tick < 300; tick++) {
        if (r() < 0.3) m.send(new Uint8Array(Math.floor(r() * 300)));
        const size = Math.floor(r() * 400);
        published += size;
        if (link.subscribed) link.holds += size; // a publish reaches only subscribers, but counts for all
        if (r() < 0.05) link.join(!link.subscribed);
        if (r() < 0.5) link.holds = Math.max(0, link.holds - Math.floor(r() * 600)); // the kernel took some
        expect(m.backedUp(limit, published), `seed ${seed} tick ${tick}`).toBe(link.holds > limit);
      }
    }
  });

  it('asks a healthy socket about once per limit of bytes sent, and a backed-up one every time', () => {
    const link = new ModelLink();
    const m = member(link);
    let published = 0;
    for (let tick = 0; tick < 1000; tick++) {
      published += 200;
      link.holds = 0; // drained at once: a healthy client
      expect(m.backedUp(64 * 1024, published)).toBe(false);
    }
    expect(link.asks).toBeLessThanOrEqual(Math.ceil((1000 * 200) / (64 * 1024)));
    expect(link.asks).toBeGreaterThan(0);
    link.asks = 0;
    m.send(new Uint8Array(100_000)); // a big message the kernel does not take
    for (let tick = 0; tick < 10; tick++) {
      published += 200;
      link.holds += 200;
      expect(m.backedUp(64 * 1024, published)).toBe(true);
    }
    expect(link.asks).toBe(10);
  });
});
