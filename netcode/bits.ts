/**
 * Bit-level writer and reader for the snapshot delta codec.
 *
 * Bit order: MSB-first. The first bit written is the top bit of byte 0. The last
 * byte is padded with zero bits. The reader can check that, so trailing garbage
 * is caught (see `BitReader.atCleanEnd`).
 *
 * Fast path: values of up to 24 bits go through one 32-bit accumulator step
 * (at most 7 pending bits + 24 new bits <= 31 bits, so `<<` never overflows).
 * Wider values, up to 52 bits, are split into 24-bit chunks.
 *
 * Exp-Golomb (order 0) codes small non-negative integers: v -> (n zeros)
 * followed by v+1 in n+1 bits, where n = floor(log2(v+1)). 0 costs 1 bit, 1..2
 * cost 3 bits, 3..6 cost 5 bits. Ids, gaps and counts use it, so an idle world
 * and the "next entity" gaps cost about 1 bit each.
 */

/** Longest run of leading zeros the reader accepts in an Exp-Golomb code (values < 2^40). */
export const MAX_EG_ZEROS = 40;

const TWO_24 = 16777216;

export class BitWriter {
  private buf: Uint8Array;
  private pos = 0; // whole bytes written
  private acc = 0; // pending bits (< 8), right-aligned
  private accBits = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Forget the content and keep the buffer, so a server tick allocates nothing here. */
  reset(): void {
    this.pos = 0;
    this.acc = 0;
    this.accBits = 0;
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.pos * 8 + this.accBits;
  }

  /** Writes the low `n` bits of the unsigned integer `v` (0 <= n <= 52). */
  writeBits(v: number, n: number): void {
    if (n > 24) {
      const hi = Math.floor(v / TWO_24);
      this.writeBits(hi, n - 24);
      this.writeBits(v - hi * TWO_24, 24);
      return;
    }
    if (this.pos + 4 > this.buf.length) this.grow();
    const acc = (this.acc << n) | v;
    let bits = this.accBits + n;
    while (bits >= 8) {
      bits -= 8;
      this.buf[this.pos++] = acc >>> bits; // Uint8Array keeps the low 8 bits
    }
    this.acc = acc & ((1 << bits) - 1);
    this.accBits = bits;
  }

  writeBit(b: boolean | number): void {
    this.writeBits(b ? 1 : 0, 1);
  }

  /** Exp-Golomb order 0 for 0 <= v < 2^52. */
  writeUE(v: number): void {
    const x = v + 1;
    if (x < TWO_24) {
      const nz = 31 - Math.clz32(x);
      if (nz <= 11) {
        this.writeBits(x, 2 * nz + 1); // the nz leading zeros come for free
      } else {
        this.writeBits(0, nz);
        this.writeBits(x, nz + 1);
      }
      return;
    }
    let nz = 24;
    while (2 ** (nz + 1) <= x) nz++;
    this.writeBits(0, nz);
    this.writeBits(x, nz + 1);
  }

  /** Signed Exp-Golomb: zigzag (0, -1, 1, -2, ...) then `writeUE`. */
  writeSE(v: number): void {
    this.writeUE(v >= 0 ? 2 * v : -2 * v - 1);
  }

  /** A copy of the bytes written (the writer's buffer is reused on reset). */
  finish(): Uint8Array {
    return this.view().slice();
  }

  /** A view of the bytes written, padded with zero bits; valid until the next write or reset. */
  view(): Uint8Array {
    if (this.accBits > 0) {
      if (this.pos + 1 > this.buf.length) this.grow();
      this.buf[this.pos] = this.acc << (8 - this.accBits);
      return this.buf.subarray(0, this.pos + 1);
    }
    return this.buf.subarray(0, this.pos);
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}

/**
 * Reads what BitWriter wrote. Never throws: reading past the end returns 0 and
 * sets `error`, so a decoder can check the flag once per entity and bail out.
 */
export class BitReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private acc = 0;
  private accBits = 0;
  /** Set once a read ran past the end (or a code was malformed); stays set until reset. */
  error = false;

  constructor(bytes?: Uint8Array) {
    if (bytes) this.reset(bytes);
  }

  reset(bytes: Uint8Array): void {
    this.buf = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.acc = 0;
    this.accBits = 0;
    this.error = false;
  }

  /** Bits not yet read (padding included). */
  get bitsLeft(): number {
    return (this.end - this.pos) * 8 + this.accBits;
  }

  /** Reads `n` bits (0 <= n <= 52) as an unsigned integer. */
  readBits(n: number): number {
    if (n > 24) {
      const hi = this.readBits(n - 24);
      return hi * TWO_24 + this.readBits(24);
    }
    let acc = this.acc;
    let bits = this.accBits;
    while (bits < n) {
      if (this.pos >= this.end) {
        this.error = true;
        return 0;
      }
      acc = (acc << 8) | this.buf[this.pos++];
      bits += 8;
    }
    bits -= n;
    this.accBits = bits;
    this.acc = acc & ((1 << bits) - 1);
    return (acc >>> bits) & ((1 << n) - 1);
  }

  readBit(): number {
    return this.readBits(1);
  }

  /** Exp-Golomb order 0; a run of more than MAX_EG_ZEROS zeros is an error (returns 0). */
  readUE(): number {
    let nz = 0;
    while (this.readBits(1) === 0) {
      if (this.error || ++nz > MAX_EG_ZEROS) {
        this.error = true;
        return 0;
      }
    }
    return nz === 0 ? 0 : 2 ** nz + this.readBits(nz) - 1;
  }

  readSE(v = this.readUE()): number {
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  /** True when everything was consumed and the padding bits are zero: no trailing garbage. */
  atCleanEnd(): boolean {
    return !this.error && this.pos === this.end && this.acc === 0;
  }
}
