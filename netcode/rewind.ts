/** One tick of a RewindBuffer: the tick, then the players' ids, xs and ys. */
export type RewindTick = [tick: number, ids: number[], xs: number[], ys: number[]];

/**
 * Where every player stood at each of the last ticks, for lag compensation: a
 * shooter's targets are rewound to the tick it saw (bounded by MAX_REWIND).
 *
 * Numbers in arrays reused tick after tick, not the worlds themselves: a world
 * kept for a quarter of a second lives through a scavenge (copied) and at times a
 * second (promoted to the old generation), a stream that kept V8's major GCs busy.
 */
export class RewindBuffer {
  private readonly tickOf: Float64Array; // per slot: the tick held, -1 = none
  private readonly ids: number[][] = [];
  private readonly xs: number[][] = [];
  private readonly ys: number[][] = [];
  private readonly counts: Int32Array;

  /** Holds the last `depth` ticks. */
  constructor(readonly depth: number) {
    this.tickOf = new Float64Array(depth).fill(-1);
    this.counts = new Int32Array(depth);
    for (let i = 0; i < depth; i++) {
      this.ids.push([]);
      this.xs.push([]);
      this.ys.push([]);
    }
  }

  /** The players' positions at `tick` (replaces whatever the slot held). */
  record(tick: number, players: readonly { id: number; x: number; y: number }[]): void {
    const s = tick % this.depth;
    const ids = this.ids[s];
    const xs = this.xs[s];
    const ys = this.ys[s];
    for (let i = 0; i < players.length; i++) {
      const p = players[i];
      ids[i] = p.id;
      xs[i] = p.x;
      ys[i] = p.y;
    }
    this.counts[s] = players.length;
    this.tickOf[s] = tick;
  }

  /** Tick `tick` as [tick, ids, xs, ys], or undefined when it is not held. */
  get(tick: number): RewindTick | undefined {
    const s = tick % this.depth;
    if (tick < 0 || this.tickOf[s] !== tick) return undefined;
    const n = this.counts[s];
    return [tick, this.ids[s].slice(0, n), this.xs[s].slice(0, n), this.ys[s].slice(0, n)];
  }

  /** Forgets every tick. */
  clear(): void {
    this.tickOf.fill(-1);
  }

  /** Puts back ticks `get` returned (replaces what their slots held). */
  load(ticks: readonly RewindTick[]): void {
    for (const [tick, ids, xs, ys] of ticks) this.record(tick, ids.map((id, i) => ({ id, x: xs[i], y: ys[i] })));
  }

  /** Where the players other than `except` stood at `tick`, or undefined when that tick is not held. */
  at(tick: number, except: number): Map<number, { x: number; y: number }> | undefined {
    const s = tick % this.depth;
    if (tick < 0 || this.tickOf[s] !== tick) return undefined;
    const out = new Map<number, { x: number; y: number }>();
    const ids = this.ids[s];
    for (let i = 0; i < this.counts[s]; i++) if (ids[i] !== except) out.set(ids[i], { x: this.xs[s][i], y: this.ys[s][i] });
    return out;
  }
}
