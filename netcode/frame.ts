/**
 * A Frame is the quantized state of a world (or of one client's view of it) at a
 * tick: parallel typed arrays, no objects, so delta encoding is a linear merge.
 *
 * Invariants (checked by `checkFrame`, relied on by delta/checksum/interest):
 * - ids strictly ascending; length of ids and types is `count`;
 * - values.length === count * stride; entity i owns values[i*stride .. i*stride+fieldCount);
 *   slots past its type's field count are 0;
 * - every value is a valid quantized value of its field.
 * Frames are immutable once built: history, caches and clients share them. The one
 * exception is a FramePool's frame after its owner gave it back (see FramePool).
 */
import type { Schema } from './schema.ts';

export interface Frame {
  readonly tick: number;
  readonly count: number;
  readonly ids: Uint32Array;
  readonly types: Uint8Array;
  readonly values: Int32Array;
  /** Made by a FramePool, with an ArrayBuffer of its own (only such a frame may be given back to one). */
  readonly pooled?: boolean;
}

export const MAX_ENTITIES = 1 << 20; // bound for the builder's sort keys

export function emptyFrame(tick: number): Frame {
  return allocFrame(tick, 0, 0);
}

/*
 * Slab allocation. Node 20 spends 0.3-1 µs on every `new Int32Array(n)` past 64
 * bytes (an off-heap backing store each time), against ~25 ns for a view on an
 * existing ArrayBuffer, and the codec makes a frame per decode and per filtered
 * view. So frames are carved from 256 KB slabs, never reused (an owner that knows
 * when its frames die uses a FramePool instead): fresh memory is
 * zeroed, and a slab is freed by GC once all its frames are. Consequence: a
 * frame's arrays share their ArrayBuffer with other frames: never transfer or
 * detach `frame.values.buffer`, and never send it whole.
 */
const SLAB_BYTES = 256 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** A zeroed frame of `count` entities, to be filled by its creator before anyone else sees it. */
export function allocFrame(tick: number, count: number, stride: number): Frame {
  const vBytes = count * stride * 4;
  const iBytes = count * 4;
  const total = vBytes + iBytes + ((count + 7) & ~7); // keeps the next carve 8-aligned
  let buf = slab;
  let off = slabUsed;
  if (total > SLAB_BYTES / 8) {
    buf = new ArrayBuffer(total);
    off = 0;
  } else {
    if (off + total > SLAB_BYTES) {
      slab = buf = new ArrayBuffer(SLAB_BYTES);
      off = 0;
    }
    slabUsed = off + total;
  }
  return {
    tick,
    count,
    values: new Int32Array(buf, off, count * stride),
    ids: new Uint32Array(buf, off + vBytes, count),
    types: new Uint8Array(buf, off + vBytes + iBytes, count),
    pooled: false,
  };
}

/** Makes a zeroed frame of `count` entities: `allocFrame`, or a `FramePool`'s `alloc`. */
export type FrameAlloc = (tick: number, count: number, stride: number) => Frame;

/**
 * Recycled frames for an owner that knows when a frame is dead: the server's
 * snapshot history (fan-out), which gives back the frame a push evicts, or a Replica that
 * only ever lets go of the frame its history ring evicts. Each pooled frame has
 * its own ArrayBuffer, rezeroed and reused, so a client decoding 20–30 snapshots
 * a second allocates no frame memory. Slab frames churned 25 MB/s of ArrayBuffers
 * through 500 bots' heap; the ones that outlived a scavenge were only freed by a
 * mark-compact, which paused the bots' event loop 6–9 ms about once a second.
 */
export class FramePool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly max = 4) {}

  readonly alloc: FrameAlloc = (tick, count, stride) => {
    const vBytes = count * stride * 4;
    const iBytes = count * 4;
    const total = vBytes + iBytes + count;
    let buf: ArrayBuffer | undefined;
    for (let i = this.free.length - 1; i >= 0; i--) {
      if (this.free[i].byteLength >= total) {
        buf = this.free[i];
        this.free[i] = this.free[this.free.length - 1];
        this.free.pop();
        new Uint8Array(buf, 0, total).fill(0);
        break;
      }
    }
    buf ??= new ArrayBuffer(Math.max(256, (total + (total >> 2) + 255) & ~255)); // room to grow a little
    return {
      tick,
      count,
      values: new Int32Array(buf, 0, count * stride),
      ids: new Uint32Array(buf, vBytes, count),
      types: new Uint8Array(buf, vBytes + iBytes, count),
      pooled: true,
    };
  };

  /**
   * Takes back a frame nobody will read again; slab frames (which share their buffer) are
   * ignored. A full pool keeps its largest buffers: while a room fills, frames outgrow the
   * first ones, and a pool that kept those would never fit a frame again. (A WeakSet of the
   * pool's buffers once did the `pooled` check and cost the bots ~4 % of their CPU in hash
   * lookups and GC ephemeron work.)
   */
  release(frame: Frame): void {
    const buf = frame.values.buffer as ArrayBuffer;
    if (!frame.pooled || this.free.includes(buf)) return;
    if (this.free.length < this.max) {
      this.free.push(buf);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i].byteLength < this.free[smallest].byteLength) smallest = i;
    if (buf.byteLength > this.free[smallest].byteLength) this.free[smallest] = buf;
  }
}

/** Builds frames from the game's objects; reuses its scratch buffers between ticks. */
export class FrameBuilder {
  private tick = 0;
  private count = 0;
  private ids = new Uint32Array(64);
  private types = new Uint8Array(64);
  private values: Int32Array;
  private sorted = true;

  constructor(private readonly schema: Schema) {
    this.values = new Int32Array(64 * schema.stride);
  }

  begin(tick: number): void {
    this.tick = tick;
    this.count = 0;
    this.sorted = true;
  }

  /** Adds one entity; any order is fine (end() sorts), duplicate ids are a programmer error. */
  add(typeIndex: number, id: number, obj: object): void {
    const at = this.slot(typeIndex, id) * this.schema.stride; // first: taking a slot may grow (replace) `values`
    this.schema.quantize(typeIndex, obj, this.values, at);
  }

  /** The same, from the field values in the type's field order (`Schema.quantizeValues`). */
  addValues(typeIndex: number, id: number, values: ArrayLike<number>): void {
    const at = this.slot(typeIndex, id) * this.schema.stride;
    this.schema.quantizeValues(typeIndex, values, this.values, at);
  }

  /** Takes the next entity slot for (type, id), growing the buffers when full; returns its index. */
  private slot(typeIndex: number, id: number): number {
    if (typeIndex < 0 || typeIndex >= this.schema.types.length) throw new Error(`frame: unknown type ${typeIndex}`);
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new Error(`frame: bad id ${id}`);
    if (this.count === this.ids.length) this.grow();
    const n = this.count++;
    if (n > 0 && id <= this.ids[n - 1]) this.sorted = false;
    this.ids[n] = id;
    this.types[n] = typeIndex;
    return n;
  }

  /** The frame built since `begin`, made by `alloc` (default: from a slab). */
  end(alloc: FrameAlloc = allocFrame): Frame {
    const n = this.count;
    const stride = this.schema.stride;
    const frame = alloc(this.tick, n, stride);
    const { ids, types, values } = frame;
    if (this.sorted) {
      ids.set(this.ids.subarray(0, n));
      types.set(this.types.subarray(0, n));
      values.set(this.values.subarray(0, n * stride));
    } else {
      // Sort keys id * 2^20 + index are exact in a float64 (ids < 2^32), so a native numeric sort does it.
      if (n > MAX_ENTITIES) throw new Error('frame: too many entities');
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = this.ids[i] * MAX_ENTITIES + i;
      keys.sort();
      for (let j = 0; j < n; j++) {
        const i = keys[j] % MAX_ENTITIES;
        ids[j] = this.ids[i];
        types[j] = this.types[i];
        for (let f = 0; f < stride; f++) values[j * stride + f] = this.values[i * stride + f];
        if (j > 0 && ids[j] === ids[j - 1]) throw new Error(`frame: duplicate id ${ids[j]}`);
      }
    }
    return frame;
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const ids = new Uint32Array(cap);
    ids.set(this.ids);
    const types = new Uint8Array(cap);
    types.set(this.types);
    const values = new Int32Array(cap * this.schema.stride);
    values.set(this.values);
    this.ids = ids;
    this.types = types;
    this.values = values;
  }
}

/** Index of `id` in the frame, or -1 (binary search). */
export function findIndex(frame: Frame, id: number): number {
  let lo = 0;
  let hi = frame.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = frame.ids[mid];
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Entity i with its values dequantized to real units. */
export function frameEntity(schema: Schema, frame: Frame, i: number): { id: number; type: number; obj: Record<string, number> } {
  const type = frame.types[i];
  return { id: frame.ids[i], type, obj: schema.dequantize(type, frame.values, i * schema.stride) };
}

/** Same entities with the same quantized values (the tick is not compared). */
export function framesEqual(a: Frame, b: Frame): boolean {
  if (a.count !== b.count || a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.count; i++) if (a.ids[i] !== b.ids[i] || a.types[i] !== b.types[i]) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}

/** null when the frame meets every invariant above, else what is wrong. For tests and debug asserts. */
export function checkFrame(schema: Schema, frame: Frame): string | null {
  const { count, ids, types, values } = frame;
  const stride = schema.stride;
  if (ids.length !== count || types.length !== count || values.length !== count * stride) return 'array lengths';
  for (let i = 0; i < count; i++) {
    if (i > 0 && ids[i] <= ids[i - 1]) return `ids not ascending at ${i}`;
    const t = schema.types[types[i]];
    if (!t) return `unknown type ${types[i]} at ${i}`;
    for (let f = 0; f < stride; f++) {
      const q = values[i * stride + f];
      if (f < t.fieldCount ? !schema.inRange(t.index, f, q) : q !== 0) return `value ${q} of ${t.name}#${ids[i]} field ${f}`;
    }
  }
  return null;
}
