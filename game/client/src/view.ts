/**
 * What the scene draws: remote entities interpolated between the two held
 * snapshot frames around the render tick (netcode's Interpolator, adaptive
 * delay), plus the round state from the newest frame. The local player is
 * drawn from prediction instead (see own.ts); this module only marks it.
 *
 * Interpolation reads the quantized frames directly (ids ascending, so the two
 * frames are merged by walking them side by side) and dequantizes only the
 * fields it draws: no per-snapshot entity objects, no maps. The view objects
 * are pooled and refilled every frame (only the newest WorldView is ever read).
 */
import { aimToRadians } from '../../sim/movement.ts';
import { ROUND_ID, T_NPC, T_PLAYER, T_ROUND, T_SHOT } from '../../sim/netschema.ts';
import { N, P, R, S } from './frames.ts';
import { type Frame, findIndex as rowOf } from '../../../netcode/frame.ts';
import type { Replica } from '../../../netcode/replica.ts';
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

/** A player's fields as the server sent them (for scores and reconciliation). */
export interface PlayerState {
  id: number;
  x: number;
  y: number;
  hp: number;
  score: number;
  kills: number;
  deaths: number;
}

/** Reads one field of one entity, dequantized exactly as Schema.dequantize does. */
/**
 * Interpolation factor between two positions: `t`, unless they are more than
 * `jump` u apart (a respawn, not a few ticks of running), which switches at
 * half way instead of sliding across the map.
 */
function blend(px: number, py: number, qx: number, qy: number, t: number, jump: number): number {
  if (Math.abs(qx - px) + Math.abs(qy - py) <= jump) return t;
  return t < 0.5 ? 0 : 1;
}

export class RemoteView {
  readonly interp: Interpolator;
  /** Applied snapshot ticks still held by the replica, ascending. */
  readonly ticks: number[] = [];
  /** Frames by tick (null: not held when first asked), a few kept: a frame is read by many render frames. */
  private readonly cache = new Map<number, Frame | null>();
  private readonly world: WorldView = { tick: 0, renderTick: 0, extrapolating: false, round: null, players: [], npcs: [], shots: [] };
  private readonly playerPool: PlayerView[] = [];
  private readonly npcPool: NpcView[] = [];
  private readonly shotPool: ShotView[] = [];
  private readonly roundView: RoundView = { number: 0, phase: 0, time: 0, winner: 0 };

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

  /**
   * The world at render time. `serverNow` null (clock not ready): the newest frame as is.
   * The returned view (and its entries) is reused by the next call.
   */
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
      const br = this.interp.bracket(renderTick, this.ticks);
      if (br) ({ from, to, alpha, extrapolating } = br);
    }
    const a = this.frame(from);
    const b = this.frame(to);
    const view = this.world;
    view.tick = newest;
    view.renderTick = renderTick;
    view.extrapolating = extrapolating;
    view.round = null;
    view.players.length = 0;
    view.npcs.length = 0;
    view.shots.length = 0;
    const latest = this.frame(newest);
    const lr = latest ? rowOf(latest, ROUND_ID) : -1;
    if (latest && lr >= 0 && latest.types[lr] === T_ROUND) {
      const r = this.roundView;
      const v = latest.values;
      r.number = R.number(v, lr);
      r.phase = R.phase(v, lr);
      r.time = R.time(v, lr);
      r.winner = R.winner(v, lr);
      view.round = r;
    }
    const na = a ? a.count : 0;
    const nb = b ? b.count : 0;
    // Entities of the newer frame, in its order; the older frame's row of the same id found by walking along.
    let i = 0;
    for (let j = 0; j < nb; j++) {
      const id = (b as Frame).ids[j];
      while (i < na && (a as Frame).ids[i] < id) i++;
      const ia = i < na && (a as Frame).ids[i] === id ? i : -1;
      // An entity only in the newer frame appears half way; one only in the older (below) leaves half way.
      if (ia < 0 && alpha < 0.5 && from !== to) continue;
      if (ia >= 0) this.add(view, a as Frame, ia, b as Frame, j, alpha, id);
      else this.add(view, b as Frame, j, b as Frame, j, 0, id);
    }
    if (alpha < 0.5) {
      let j = 0;
      for (let k = 0; k < na; k++) {
        const id = (a as Frame).ids[k];
        while (j < nb && (b as Frame).ids[j] < id) j++;
        if (j < nb && (b as Frame).ids[j] === id) continue;
        this.add(view, a as Frame, k, a as Frame, k, 0, id);
      }
    }
    return view;
  }

  /** Blends row ra of frame fa (older) into row rb of fb (newer) by t; the newer row's type decides. */
  private add(view: WorldView, fa: Frame, ra: number, fb: Frame, rb: number, t: number, id: number): void {
    const type = fb.types[rb];
    // Same id, another type (cannot happen: ids are never reused): nothing to blend from.
    if (fa.types[ra] !== type) {
      fa = fb;
      ra = rb;
    }
    const p = fa.values;
    const q = fb.values;
    switch (type) {
      case T_PLAYER: {
        const px = P.x(p, ra);
        const py = P.y(p, ra);
        const qx = P.x(q, rb);
        const qy = P.y(q, rb);
        const k = blend(px, py, qx, qy, t, 120);
        const n = view.players.length;
        let o = this.playerPool[n];
        if (!o) {
          o = { id: 0, x: 0, y: 0, aim: 0, hp: 0, shield: false, score: 0, kills: 0, deaths: 0 };
          this.playerPool.push(o);
        }
        o.id = id;
        o.x = lerp(px, qx, k);
        o.y = lerp(py, qy, k);
        o.aim = lerpAngle(aimToRadians(P.aim(p, ra)), aimToRadians(P.aim(q, rb)), k);
        o.hp = P.hp(q, rb);
        o.shield = P.shield(q, rb) === 1;
        o.score = P.score(q, rb);
        o.kills = P.kills(q, rb);
        o.deaths = P.deaths(q, rb);
        view.players.push(o);
        return;
      }
      case T_NPC: {
        const px = N.x(p, ra);
        const py = N.y(p, ra);
        const qx = N.x(q, rb);
        const qy = N.y(q, rb);
        const k = blend(px, py, qx, qy, t, 60);
        const n = view.npcs.length;
        let o = this.npcPool[n];
        if (!o) {
          o = { id: 0, x: 0, y: 0, hp: 0 };
          this.npcPool.push(o);
        }
        o.id = id;
        o.x = lerp(px, qx, k);
        o.y = lerp(py, qy, k);
        o.hp = N.hp(q, rb);
        view.npcs.push(o);
        return;
      }
      case T_SHOT: {
        const n = view.shots.length;
        let o = this.shotPool[n];
        if (!o) {
          o = { id: 0, x1: 0, y1: 0, x2: 0, y2: 0, owner: 0, hit: 0 };
          this.shotPool.push(o);
        }
        o.id = id;
        o.x1 = S.x1(q, rb);
        o.y1 = S.y1(q, rb);
        o.x2 = S.x2(q, rb);
        o.y2 = S.y2(q, rb);
        o.owner = S.owner(q, rb);
        o.hit = S.hit(q, rb);
        view.shots.push(o);
        return;
      }
    }
  }

  /** Calls `f` with each player of a held tick, as sent (`out` is reused between calls). */
  eachPlayer(tick: number, out: PlayerState, f: (p: PlayerState) => void): void {
    const fr = this.frame(tick);
    if (!fr) return;
    const v = fr.values;
    for (let r = 0; r < fr.count; r++) {
      if (fr.types[r] !== T_PLAYER) continue;
      out.id = fr.ids[r];
      out.x = P.x(v, r);
      out.y = P.y(v, r);
      out.hp = P.hp(v, r);
      out.score = P.score(v, r);
      out.kills = P.kills(v, r);
      out.deaths = P.deaths(v, r);
      f(out);
    }
  }

  /** The frame of a held tick (cached, a few ticks kept: it stays readable after the replica lets it go). */
  private frame(tick: number): Frame | null {
    const c = this.cache.get(tick);
    if (c !== undefined) return c;
    const f = this.replica.frame(tick) ?? null;
    this.cache.set(tick, f);
    if (this.cache.size > 6) {
      let oldest = Infinity;
      for (const k of this.cache.keys()) if (k < oldest) oldest = k;
      this.cache.delete(oldest);
    }
    return f;
  }
}
