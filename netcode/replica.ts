/**
 * The client side of snapshots (browser and bots): applies bodies against the
 * frames it holds and keeps the result by tick.
 *
 * Why keep several frames: the room's shared snapshot is a delta against the
 * previous tick, but a private one (after a skip or a resume) is against the last
 * tick this client ACKED, which may be older than the newest tick applied (acks
 * in flight). So every applied frame stays available as a baseline until it
 * leaves the ring. Ack a tick only after `apply` returned ok for it.
 *
 * Invariant: every stored frame passed the decoder's validation and matched the
 * server's checksum, i.e. equals the server's (filtered) frame at that tick.
 */
import { frameChecksum } from './checksum.ts';
import { decodeDelta, isDeltaError } from './deltadecode.ts';
import { type Frame, FramePool } from './frame.ts';
import { SnapshotHistory } from './history.ts';
import type { EntityValues, Schema } from './schema.ts';

export type ApplyResult = { ok: true; frame: Frame } | { ok: false; error: string };

/** What `apply` reports on a checksum mismatch: ask the server for a full snapshot. */
export const DESYNC = 'desync';
/** What `apply` reports when the body's baseline is not held. */
export const BASELINE_GONE = 'baseline gone';

export interface ReplicaEntity {
  id: number;
  type: number;
  typeName: string;
  obj: EntityValues;
}

export class Replica {
  private readonly frames: SnapshotHistory;
  private readonly pool: FramePool | null;

  /**
   * `recycle`: reuse the memory of the frame the ring evicts for a later decode.
   * Only for an owner that never keeps a frame past its stay in the ring (the
   * load test's bots read `latest` and let go); the browser's views hold frames.
   */
  constructor(
    private readonly schema: Schema,
    capacity = 64,
    opts: { recycle?: boolean } = {},
  ) {
    this.frames = new SnapshotHistory(capacity);
    this.pool = opts.recycle ? new FramePool() : null;
  }

  /**
   * Applies a body. baseTick 0 = full snapshot. Never throws; on any error
   * nothing is stored and the previous state stays.
   */
  apply(baseTick: number, tick: number, body: Uint8Array, expectedChecksum: number): ApplyResult {
    if (!Number.isInteger(tick) || tick <= 0 || !Number.isInteger(baseTick) || baseTick < 0 || baseTick >= tick) {
      return { ok: false, error: 'bad tick' };
    }
    let base: Frame | null = null;
    if (baseTick !== 0) {
      base = this.frames.get(baseTick) ?? null;
      if (!base) return { ok: false, error: BASELINE_GONE };
    }
    if (!(body instanceof Uint8Array)) return { ok: false, error: 'body is not bytes' };
    const pool = this.pool;
    const r = decodeDelta(this.schema, base, body, tick, pool?.alloc); // undefined: decodeDelta's own slab allocator
    if (isDeltaError(r)) return { ok: false, error: r.error };
    if (frameChecksum(r) !== expectedChecksum >>> 0) {
      pool?.release(r);
      return { ok: false, error: DESYNC };
    }
    const evicted = pool ? this.frames.occupant(tick) : undefined;
    if (!this.frames.push(r)) {
      pool?.release(r);
      return { ok: false, error: 'too old' };
    }
    if (evicted) pool?.release(evicted); // never `r`: it was not in the ring before this push
    return { ok: true, frame: r };
  }

  /** The frame of that tick, if still held (e.g. to check a baseline before acking). */
  frame(tick: number): Frame | undefined {
    return this.frames.get(tick);
  }

  /** The newest applied frame. */
  get latest(): Frame | undefined {
    return this.frames.latest;
  }

  /** Forget everything, e.g. after a desync, so the next apply must be a full snapshot. */
  reset(): void {
    this.frames.clear();
  }

  /** The entities of the latest frame (or `frame`), dequantized to real units. */
  *entities(frame: Frame | undefined = this.latest): Iterable<ReplicaEntity> {
    if (!frame) return;
    const { stride, types } = this.schema;
    for (let i = 0; i < frame.count; i++) {
      const type = frame.types[i];
      yield { id: frame.ids[i], type, typeName: types[type].name, obj: this.schema.dequantize(type, frame.values, i * stride) };
    }
  }
}
