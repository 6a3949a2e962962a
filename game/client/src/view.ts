/**
 * What the scene draws: remote entities interpolated between the two held
 * snapshot frames around the render tick (netcode's Interpolator, adaptive
 * delay), plus the round state from the newest frame. The local player is
 * drawn from prediction instead (see own.ts); this module only marks it.
 *
 * Frames are dequantized once per tick and cached: a frame is read by many
 * render frames (60 fps against 30 Hz snapshots).
 */
import { aimToRadians } from '../../sim/movement.ts';
import { ROUND_ID, T_NPC, T_PLAYER, T_ROUND, T_SHOT } from '../../sim/netschema.ts';
import type { ReplicaEntity, Replica } from '../../../netcode/replica.ts';
import { Interpolator, lerp, lerpAngle } from '../../../netcode/interpolate.ts';

export interface PlayerView {
  id: number;
  x: number;
  y: number;
  aim: number; // radians
  hp: number;
  shield: boolean;
  score: number;
  kills: number;
  deaths: number;
}

export interface NpcView {
  id: number;
  x: number;
  y: number;
  hp: number;
}

export interface ShotView {
  id: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  owner: number;
  hit: number;
}

export interface RoundView {
  number: number;
  phase: number;
  time: number; // whole seconds left
  winner: number;
}

export interface WorldView {
  tick: number; // newest snapshot tick held
  renderTick: number;
  extrapolating: boolean;
  round: RoundView | null;
  players: PlayerView[];
  npcs: NpcView[];
  shots: ShotView[];
}

type EntityMap = Map<number, ReplicaEntity>;

export class RemoteView {
  readonly interp: Interpolator;
  /** Applied snapshot ticks still held by the replica, ascending. */
  readonly ticks: number[] = [];
  private readonly cache = new Map<number, EntityMap>();

  constructor(private readonly replica: Replica, tickRate: number) {
    this.interp = new Interpolator({ period: 1000 / tickRate });
  }

  /** A fresh seat or a desync reset: forget held ticks. */
  clear(): void {
    this.ticks.length = 0;
    this.cache.clear();
  }

  /** A snapshot was applied. `serverNow` is null while the server clock is still learning. */
  onSnapshot(tick: number, now: number, serverNow: number | null): void {
    const last = this.ticks[this.ticks.length - 1];
    if (last === undefined || tick > last) this.ticks.push(tick);
    while (this.ticks.length && !this.replica.frame(this.ticks[0])) this.ticks.shift();
    if (serverNow !== null) this.interp.onSnapshot(tick, now, serverNow);
  }

  /** The world at render time. `serverNow` null (clock not ready): the newest frame as is. */
  build(serverNow: number | null): WorldView | null {
    const newest = this.ticks[this.ticks.length - 1];
    if (newest === undefined) return null;
    let from = newest;
    let to = newest;
    let alpha = 0;
    let renderTick = newest;
    let extrapolating = false;
    if (serverNow !== null) {
      renderTick = this.interp.renderTick(serverNow);
      const b = this.interp.bracket(renderTick, this.ticks);
      if (b) ({ from, to, alpha, extrapolating } = b);
    }
    const a = this.entities(from);
    const b = this.entities(to);
    const view: WorldView = { tick: newest, renderTick, extrapolating, round: null, players: [], npcs: [], shots: [] };
    const latest = this.entities(newest).get(ROUND_ID);
    if (latest && latest.type === T_ROUND) {
      const r = latest.obj;
      view.round = { number: r.number, phase: r.phase, time: r.time, winner: r.winner };
    }
    for (const [id, eb] of b) {
      const ea = a.get(id);
      // An entity only in the newer frame appears half way; one only in the older (below) leaves half way.
      if (!ea && alpha < 0.5 && from !== to) continue;
      this.add(view, ea ?? eb, eb, ea ? alpha : 0, id);
    }
    if (alpha < 0.5) for (const [id, ea] of a) if (!b.has(id)) this.add(view, ea, ea, 0, id);
    return view;
  }

  private add(view: WorldView, ea: ReplicaEntity, eb: ReplicaEntity, t: number, id: number): void {
    const p = ea.obj;
    const q = eb.obj;
    switch (eb.type) {
      case T_PLAYER: {
        // A jump of more than a few ticks of running is a respawn: do not slide across the map.
        const far = Math.abs(q.x - p.x) + Math.abs(q.y - p.y) > 120;
        const k = far ? (t < 0.5 ? 0 : 1) : t;
        view.players.push({
          id, x: lerp(p.x, q.x, k), y: lerp(p.y, q.y, k), aim: lerpAngle(aimToRadians(p.aim), aimToRadians(q.aim), k),
          hp: q.hp, shield: q.shield === 1, score: q.score, kills: q.kills, deaths: q.deaths,
        });
        return;
      }
      case T_NPC: {
        const far = Math.abs(q.x - p.x) + Math.abs(q.y - p.y) > 60;
        const k = far ? (t < 0.5 ? 0 : 1) : t;
        view.npcs.push({ id, x: lerp(p.x, q.x, k), y: lerp(p.y, q.y, k), hp: q.hp });
        return;
      }
      case T_SHOT:
        view.shots.push({ id, x1: q.x1, y1: q.y1, x2: q.x2, y2: q.y2, owner: q.owner, hit: q.hit });
        return;
    }
  }

  /** Dequantized entities of a held tick, by id (cached; a few ticks kept). */
  entities(tick: number): EntityMap {
    let m = this.cache.get(tick);
    if (m) return m;
    m = new Map();
    const frame = this.replica.frame(tick);
    if (frame) for (const e of this.replica.entities(frame)) m.set(e.id, e);
    this.cache.set(tick, m);
    if (this.cache.size > 6) {
      const oldest = Math.min(...this.cache.keys());
      this.cache.delete(oldest);
    }
    return m;
  }
}
