/**
 * Ring of recent Frames by tick. The server keeps one per room, shared by all of
 * its clients: a client's baseline is any tick still in the ring. A Replica keeps
 * one of the frames it applied.
 *
 * Invariant: slot tick % capacity holds the newest pushed frame of that residue,
 * so get(tick) returns either exactly that tick's frame or undefined.
 */
import type { Frame } from './frame.ts';

export class SnapshotHistory {
  private readonly slots: (Frame | undefined)[];
  private newest: Frame | undefined;

  constructor(readonly capacity = 64) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('history: capacity must be a positive integer');
    this.slots = new Array(capacity).fill(undefined);
  }

  /**
   * Stores a frame. Frames may arrive out of order (late packets); one too old
   * to fit next to the newest (tick <= newest - capacity) is refused, returns false,
   * so it can never evict a newer frame.
   */
  push(frame: Frame): boolean {
    const newest = this.newest;
    if (newest && frame.tick <= newest.tick - this.capacity) return false;
    this.slots[frame.tick % this.capacity] = frame;
    if (!newest || frame.tick >= newest.tick) this.newest = frame;
    return true;
  }

  /** The frame of that tick, or undefined once it left the ring (or never came). */
  get(tick: number): Frame | undefined {
    if (!Number.isInteger(tick) || tick < 0) return undefined;
    const f = this.slots[tick % this.capacity];
    return f && f.tick === tick ? f : undefined;
  }

  /** The frame a push of `tick` would replace (any tick of the same slot), if any. */
  occupant(tick: number): Frame | undefined {
    return this.slots[tick % this.capacity];
  }

  /** The frame with the highest tick pushed so far. */
  get latest(): Frame | undefined {
    return this.newest;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.newest = undefined;
  }
}
