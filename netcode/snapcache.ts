/**
 * "Encode once, send many". Within one server tick, every client whose
 * (baseline tick, view at the baseline, current view) matches another's gets the
 * very same body bytes and checksum, so a room encodes a handful of bodies per
 * tick instead of one per client.
 *
 * Keys: the current view key selects the filtered frame and its checksum; inside
 * it, (baseViewKey, tick - baseTick) selects a body. A client's baseline is the
 * tick it last acked; the server must also remember which view that client had
 * at that tick (`SentViews`), because the baseline the client holds is the
 * frame filtered by THAT view.
 */
import { encodeDelta } from './delta.ts';
import { frameChecksum } from './checksum.ts';
import type { Frame } from './frame.ts';
import type { SnapshotHistory } from './history.ts';
import { ALL_VIEW, INTEREST_OFF, type InterestConfig, ViewCache } from './interest.ts';
import type { Schema } from './schema.ts';
import { BitWriter } from './bits.ts';

/** One encoded snapshot body, shared by every client it fits. Treat as read-only. */
export interface EncodedSnapshot {
  readonly tick: number;
  /** The baseline the body is relative to; 0 = full snapshot (tick 0 is never a baseline). */
  readonly baseTick: number;
  readonly body: Uint8Array;
  /** frameChecksum of the client's frame after applying the body. */
  readonly checksum: number;
}

interface ViewEntry {
  frame: Frame;
  checksum: number;
  bodies: Map<number, EncodedSnapshot>;
}

export interface DeltaCacheOptions {
  schema: Schema;
  /** The room's history; the current tick's frame must be pushed before beginTick. */
  history: SnapshotHistory;
  interest?: InterestConfig;
  /** Share the filtered-frame cache with other users (default: a private one). */
  views?: ViewCache;
}

export class DeltaCache {
  readonly views: ViewCache;
  private readonly writer = new BitWriter(4096);
  private tick = -1;
  private frame: Frame | undefined;
  private readonly byView = new Map<number, ViewEntry>();
  /** Counters since construction, for metrics and the bench. */
  readonly stats = { requests: 0, encodes: 0, fulls: 0 };

  constructor(private readonly opts: DeltaCacheOptions) {
    this.views = opts.views ?? new ViewCache(opts.schema, opts.interest ?? INTEREST_OFF);
  }

  /** Starts a tick: drops the previous tick's bodies. Throws if the tick's frame was not pushed (programmer error). */
  beginTick(tick: number): void {
    if (tick === this.tick) return;
    const frame = this.opts.history.get(tick);
    if (!frame) throw new Error(`snapcache: tick ${tick} is not in the history`);
    this.tick = tick;
    this.frame = frame;
    this.byView.clear();
  }

  clear(): void {
    this.tick = -1;
    this.frame = undefined;
    this.byView.clear();
  }

  /**
   * The body for a client whose last acked tick is `baseTick` (0 = none), seen
   * then through `baseViewKey`, and who now sees `curViewKey`. Falls back to a
   * full snapshot (baseTick 0 in the result) when the baseline left the history.
   */
  get(baseTick: number, baseViewKey: number, curViewKey: number): EncodedSnapshot {
    const frame = this.frame;
    if (!frame) throw new Error('snapcache: beginTick first');
    this.stats.requests++;
    let entry = this.byView.get(curViewKey);
    if (!entry) {
      const view = this.views.get(frame, curViewKey);
      entry = { frame: view, checksum: frameChecksum(view), bodies: new Map() };
      this.byView.set(curViewKey, entry);
    }
    const age = this.tick - baseTick;
    const baseFrame = baseTick > 0 && age > 0 ? this.opts.history.get(baseTick) : undefined;
    const key = baseFrame ? (baseViewKey - ALL_VIEW) * 65536 + age : -1;
    let snap = entry.bodies.get(key);
    if (!snap) {
      const base = baseFrame ? this.views.get(baseFrame, baseViewKey) : null;
      const body = encodeDelta(this.opts.schema, base, entry.frame, this.writer);
      snap = { tick: this.tick, baseTick: baseFrame ? baseTick : 0, body, checksum: entry.checksum };
      entry.bodies.set(key, snap);
      this.stats.encodes++;
      if (!baseFrame) this.stats.fulls++;
    }
    return snap;
  }
}

/**
 * Per client: the view key it was sent at each recent tick, so the server can
 * rebuild the exact baseline the client holds. Same ring rule as SnapshotHistory.
 */
export class SentViews {
  /** Per slot: the tick (-1 = none), then its view key; side by side, one cache line for both. */
  private readonly e: Float64Array;

  constructor(readonly capacity = 64) {
    this.e = new Float64Array(capacity * 2);
    for (let i = 0; i < capacity; i++) this.e[i * 2] = -1;
  }

  record(tick: number, viewKey: number): void {
    const o = (tick % this.capacity) * 2;
    this.e[o] = tick;
    this.e[o + 1] = viewKey;
  }

  /** The view key sent at `tick`, or undefined if not remembered (treat as no baseline). */
  get(tick: number): number | undefined {
    const o = (tick % this.capacity) * 2;
    return this.e[o] === tick ? this.e[o + 1] : undefined;
  }
}
