/**
 * Client-side prediction of the local player, with server reconciliation and
 * error smoothing. Game-agnostic: the movement step is injected and must be the
 * very function the authority runs (pure, fixed dt), e.g. game/sim movePlayer.
 *
 * Algorithm (Gambetta, "Fast-Paced Multiplayer"; Quake 3 / Source):
 *   apply(seq, input):  position ← step(position, input, dt); keep (seq, input).
 *   reconcile(serverPos, lastSeq):  drop inputs with seq ≤ lastSeq; replay the
 *     rest from serverPos; the jump old → new prediction is added to a visual
 *     error offset that fades linearly to zero over smoothMs (or is discarded,
 *     i.e. the player snaps, when the jump exceeds snapDistance).
 *
 * Invariant: `position` always equals the step replayed over the pending inputs
 * from the last authoritative position, so with the authority applying the same
 * inputs (the `own` anchor covers its guesses, see server/inputs.ts) every
 * reconcile returns exactly 0. Only renderPosition() carries the offset.
 */

export interface Vec {
  x: number;
  y: number;
}

export interface PredictorOptions<I> {
  dt: number; // s per input (fixed)
  step: (pos: Vec, input: I, dt: number) => Vec;
  smoothMs?: number; // ms over which a visible correction fades, default 100
  snapDistance?: number; // u; a larger correction snaps at once, default 64
  maxPending?: number; // inputs held unacknowledged, oldest dropped beyond; default 128
}

export interface PredictorStats {
  corrections: number; // reconciles that moved the prediction by more than 1e-9 u
  lastCorrection: number; // u
  maxCorrection: number; // u
  snaps: number; // corrections beyond snapDistance
}

const EPS = 1e-9;

export class Predictor<I> {
  private readonly dt: number;
  private readonly step: (pos: Vec, input: I, dt: number) => Vec;
  private readonly smoothMs: number;
  private readonly snapDistance: number;
  private readonly maxPending: number;
  private readonly pending: { seq: number; input: I }[] = [];
  private pos: Vec = { x: 0, y: 0 };
  private errX = 0; // visible offset at errAt, u
  private errY = 0;
  private errAt = 0; // ms
  readonly stats: PredictorStats = { corrections: 0, lastCorrection: 0, maxCorrection: 0, snaps: 0 };

  constructor(opts: PredictorOptions<I>) {
    this.dt = opts.dt;
    this.step = opts.step;
    this.smoothMs = Math.max(0, opts.smoothMs ?? 100);
    this.snapDistance = opts.snapDistance ?? 64;
    this.maxPending = Math.max(1, opts.maxPending ?? 128);
  }

  /** Reset to an authoritative position (spawn, respawn, welcome): no pending inputs, no offset. */
  reset(pos: Vec, now: number): void {
    this.pos = { x: pos.x, y: pos.y };
    this.pending.length = 0;
    this.errX = this.errY = 0;
    this.errAt = now;
  }

  /**
   * A teleport (spawn, respawn, new round, resume): the authority says that after
   * `lastSeq` you were at `pos`. Like reconcile, the still-pending inputs are
   * replayed from there (they are on their way and will move us), but the jump
   * is neither smoothed nor counted as a correction.
   */
  rebase(pos: Vec, lastSeq: number, now: number): void {
    let drop = 0;
    while (drop < this.pending.length && this.pending[drop].seq <= lastSeq) drop++;
    if (drop) this.pending.splice(0, drop);
    let p: Vec = { x: pos.x, y: pos.y };
    for (const f of this.pending) p = this.step(p, f.input, this.dt);
    this.pos = p;
    this.errX = this.errY = 0;
    this.errAt = now;
  }

  /** Applies one local input at once (same seq numbering as NetClient.input). */
  apply(seq: number, input: I): void {
    this.pos = this.step(this.pos, input, this.dt);
    this.pending.push({ seq, input });
    if (this.pending.length > this.maxPending) this.pending.shift();
  }

  /**
   * The authority says: after input `lastSeq` you were at `serverPos`. Rewinds
   * there, replays the inputs after it, and returns the correction distance (u).
   */
  reconcile(serverPos: Vec, lastSeq: number, now: number): number {
    let drop = 0;
    while (drop < this.pending.length && this.pending[drop].seq <= lastSeq) drop++;
    if (drop) this.pending.splice(0, drop);
    let p: Vec = { x: serverPos.x, y: serverPos.y };
    for (const f of this.pending) p = this.step(p, f.input, this.dt);
    const dx = this.pos.x - p.x;
    const dy = this.pos.y - p.y;
    const dist = Math.hypot(dx, dy);
    this.pos = p;
    this.stats.lastCorrection = dist;
    if (dist <= EPS) return 0;
    this.stats.corrections++;
    if (dist > this.stats.maxCorrection) this.stats.maxCorrection = dist;
    if (dist > this.snapDistance) {
      this.stats.snaps++;
      this.errX = this.errY = 0;
    } else {
      // Keep what is still visible of earlier corrections and add this jump; restart the fade.
      const left = this.fade(now);
      this.errX = this.errX * left + dx;
      this.errY = this.errY * left + dy;
    }
    this.errAt = now;
    return dist;
  }

  /** Current predicted (authoritative-consistent) position. */
  get position(): Vec {
    return { x: this.pos.x, y: this.pos.y };
  }

  /** Where to draw the local player: the prediction plus the fading correction offset. */
  renderPosition(now: number): Vec {
    const k = this.fade(now);
    return { x: this.pos.x + this.errX * k, y: this.pos.y + this.errY * k };
  }

  /** The visible offset now (u), for a net graph. */
  errorAt(now: number): number {
    return Math.hypot(this.errX, this.errY) * this.fade(now);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Share of the offset still visible: 1 at errAt, 0 after smoothMs. */
  private fade(now: number): number {
    if (this.smoothMs === 0) return 0;
    const t = (now - this.errAt) / this.smoothMs;
    return t <= 0 ? 1 : t >= 1 ? 0 : 1 - t;
  }
}
