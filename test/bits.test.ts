/** BitWriter/BitReader: exact round trips, Exp-Golomb lengths, and safe failure on bad input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter, MAX_EG_ZEROS } from '../netcode/bits.ts';

describe('bits', () => {
  it('round-trips any sequence of (value, width) for widths 0..52', () => {
    const field = fc
      .integer({ min: 0, max: 52 })
      .chain((n) => fc.tuple(fc.constant(n), fc.bigInt({ min: 0n, max: (1n << BigInt(n)) - 1n })));
    fc.assert(
      fc.property(fc.array(field, { maxLength: 200 }), (fields) => {
        const w = new BitWriter(16); // small on purpose: forces growth
        for (const [n, v] of fields) w.writeBits(Number(v), n);
        const bytes = w.finish();
        const total = fields.reduce((s, [n]) => s + n, 0);
        expect(bytes.length).toBe(Math.ceil(total / 8));
        const r = new BitReader(bytes);
        for (const [n, v] of fields) expect(r.readBits(n)).toBe(Number(v));
        expect(r.atCleanEnd()).toBe(true);
      }),
    );
  });

  it('writes MSB-first and pads with zeros', () => {
    const w = new BitWriter();
    w.writeBits(0b101, 3);
    w.writeBits(0xff, 8);
    expect([...w.finish()]).toEqual([0b10111111, 0b11100000]);
  });

  it('Exp-Golomb: 0 costs 1 bit, 1..2 cost 3, 3..6 cost 5; signed zigzags', () => {
    const len = (v: number, signed = false): number => {
      const w = new BitWriter();
      if (signed) w.writeSE(v);
      else w.writeUE(v);
      return w.bitLength;
    };
    expect([0, 1, 2, 3, 6, 7].map((v) => len(v))).toEqual([1, 3, 3, 5, 5, 7]);
    expect([0, -1, 1, -2].map((v) => len(v, true))).toEqual([1, 3, 3, 5]);
  });

  it('Exp-Golomb round-trips small and huge values', () => {
    const big = fc.oneof(fc.nat(100), fc.nat(), fc.integer({ min: 0, max: 2 ** 40 - 2 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(big, fc.boolean())), (vals) => {
        const w = new BitWriter(16);
        for (const [v, neg] of vals) {
          w.writeUE(v);
          w.writeSE(neg ? -v : v);
        }
        const r = new BitReader(w.finish());
        for (const [v, neg] of vals) {
          expect(r.readUE()).toBe(v);
          expect(r.readSE()).toBe(neg && v !== 0 ? -v : v);
        }
        expect(r.atCleanEnd()).toBe(true);
      }),
    );
  });

  it('reset() keeps the buffer and starts over', () => {
    const w = new BitWriter(16);
    for (let i = 0; i < 100; i++) w.writeBits(0xabc, 12);
    w.reset();
    w.writeBits(5, 3);
    expect([...w.finish()]).toEqual([0b10100000]);
    expect(w.bitLength).toBe(3);
  });

  it('reading past the end returns 0 and sets the error flag instead of throwing', () => {
    const r = new BitReader(new Uint8Array([0xff]));
    expect(r.readBits(4)).toBe(15);
    expect(r.readBits(8)).toBe(0);
    expect(r.error).toBe(true);
    expect(r.atCleanEnd()).toBe(false);
  });

  it('a run of zeros longer than the Exp-Golomb limit is an error, not a hang', () => {
    const r = new BitReader(new Uint8Array(Math.ceil((MAX_EG_ZEROS + 8) / 8) + 4));
    expect(r.readUE()).toBe(0);
    expect(r.error).toBe(true);
  });

  it('atCleanEnd rejects a trailing byte and non-zero padding', () => {
    const trailing = new BitReader(new Uint8Array([0b10000000, 0]));
    trailing.readBits(1);
    expect(trailing.atCleanEnd()).toBe(false);
    const dirty = new BitReader(new Uint8Array([0b10000001]));
    dirty.readBits(1);
    expect(dirty.atCleanEnd()).toBe(false);
    const clean = new BitReader(new Uint8Array([0b10000000]));
    clean.readBits(1);
    expect(clean.atCleanEnd()).toBe(true);
  });
});
