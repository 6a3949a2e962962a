/**
 * A recorded match as frames for the arena scene (a FrameSource, like the live
 * Match): the playhead moves through the recording's steps at the chosen speed,
 * game/sim's Replay re-simulates the worlds around it, and the two worlds either
 * side of the playhead are blended into the WorldView the Painter draws. No own
 * player: every player is drawn as the others are in a match.
 *
 * Invariant after `load(n)`: `a` is the world after n steps, `b` the one after
 * n + 1 (or `a` again at the end), and the Replay stands at b. Playing forward a few
 * steps walks on with `next()`, handing each world's events to the sink (the kill
 * feed); a jump goes through the nearest keyframe at or before it (`Replay.seek`)
 * and reports no events. Paused, the playhead sits on a whole step, so what is drawn
 * is exactly that step's world.
 *
 * Time is `now` (ms) from the scene, never read here.
 */
import { Replay } from '../../sim/replay.ts';
import { aimToRadians } from '../../sim/movement.ts';
import type { GameEvent, World } from '../../sim/state.ts';
import { lerp, lerpAngle } from '../../../netcode/interpolate.ts';
import type { Recording } from '../../../netcode/replay.ts';
import type { FrameOut, Intent } from './match.ts';
import type { FrameSource } from './scene.ts';
import type { NpcView, PlayerView, ShotView, WorldView } from './view.ts';

export const SPEEDS = [0.25, 0.5, 1, 2, 4] as const;
const WALK_STEPS = 16; // a playhead this far ahead is walked to (events fed); farther, seeked
const MAX_FRAME_MS = 250; // a stalled tab does not jump the playhead by its whole absence
const JUMP = 60; // u in one step: a respawn, not a run (switch half way instead of sliding)

export class ReplayFrames implements FrameSource {
  readonly replay: Replay;
  readonly steps: number;
  readonly tickRate: number;
  /** The playhead, in steps (fractional while playing). */
  private pos = 0;
  playing = false;
  speed = 1;
  private lastNow: number | null = null;
  private n = -1;
  private a!: World;
  private b!: World;
  private readonly out: FrameOut = { world: null, me: 0, ownPos: null, ownAim: 0, localShots: [] };
  private readonly view: WorldView = { tick: 0, renderTick: 0, extrapolating: false, round: null, players: [], npcs: [], shots: [] };
  private readonly round = { number: 0, phase: 0, time: 0, winner: 0 };
  private readonly playerPool: PlayerView[] = [];
  private readonly npcPool: NpcView[] = [];
  private readonly shotPool: ShotView[] = [];

  constructor(readonly rec: Recording, private readonly sink: (e: GameEvent, now: number) => void = () => {}) {
    this.replay = new Replay(rec);
    this.steps = rec.steps;
    this.tickRate = rec.tickRate;
    this.load(0, 0);
    this.out.world = this.build(0);
  }

  /** What the last frame (or seek) gave the Painter. */
  get drawn(): WorldView | null {
    return this.out.world;
  }

  /** The step drawn (whole steps done), and its world tick. */
  get at(): number {
    return this.n;
  }

  get tick(): number {
    return this.a.tick;
  }

  /** The world after `at` steps: scores and round as of the frame drawn. */
  get world(): World {
    return this.a;
  }

  /** Seconds into the match of the playhead. */
  get seconds(): number {
    return this.pos / this.tickRate;
  }

  /** The world ticks where the recording holds a keyframe (instant seek points), the start's first. */
  get keyframeTicks(): number[] {
    return [this.rec.start, ...this.rec.keyframes].map((k) => this.replay.tickAt(k.at));
  }

  /** Puts the playhead on step `step` (clamped, whole) at once; playing goes on from there if it was. */
  seek(step: number): void {
    this.pos = Math.max(0, Math.min(this.steps, Math.round(step)));
    this.load(Math.floor(this.pos), this.lastNow ?? 0);
    this.out.world = this.build(0); // what is drawn changes now, not at the next frame (tests read it)
  }

  frame(now: number, _intent: Intent): FrameOut {
    const dt = this.playing && this.lastNow !== null ? Math.min(MAX_FRAME_MS, Math.max(0, now - this.lastNow)) : 0;
    this.lastNow = now;
    if (this.playing && this.pos >= this.steps) this.pos = 0; // play at the end starts over
    this.pos = Math.min(this.steps, this.pos + (dt / 1000) * this.tickRate * this.speed);
    if (this.pos >= this.steps) this.playing = false;
    const n = Math.floor(this.pos);
    this.load(n, now);
    this.out.world = this.build(this.pos - n);
    return this.out;
  }

  recordWork(_ms: number): void {}

  private load(n: number, now: number): void {
    if (n === this.n) return;
    const rp = this.replay;
    if (this.n >= 0 && n > this.n && n - this.n <= WALK_STEPS) {
      for (let i = this.n + 1; i <= n; i++) {
        const w = i === this.n + 1 ? this.b : rp.next();
        for (const e of w.events) this.sink(e, now);
        this.a = w;
      }
    } else {
      this.a = rp.seek(n);
    }
    this.b = n < this.steps ? rp.next() : this.a;
    this.n = n;
  }

  /** The view between a and b at fraction t: entities of the nearer world, placed between their two positions. */
  private build(t: number): WorldView {
    const { a, b, view } = this;
    const near = t < 0.5 ? a : b;
    view.tick = a.tick;
    view.renderTick = a.tick + t;
    const r = near.round;
    this.round.number = r.number;
    this.round.phase = r.phase;
    this.round.time = Math.ceil(r.time); // as the snapshot sends it: whole seconds left, rounded up
    this.round.winner = r.winner;
    view.round = this.round;
    view.players.length = 0;
    view.npcs.length = 0;
    view.shots.length = 0;
    let ia = 0;
    let ib = 0;
    for (const p of near.players) {
      ia = advance(a.players, p.id, ia);
      ib = advance(b.players, p.id, ib);
      const from = a.players[ia]?.id === p.id ? a.players[ia] : p;
      const to = b.players[ib]?.id === p.id ? b.players[ib] : p;
      const k = mix(from, to, t);
      const o = pooled(this.playerPool, view.players.length, newPlayer);
      o.id = p.id;
      o.x = lerp(from.x, to.x, k);
      o.y = lerp(from.y, to.y, k);
      o.aim = lerpAngle(aimToRadians(from.aim), aimToRadians(to.aim), k);
      o.hp = p.hp;
      o.shield = p.shield > 0;
      o.score = p.score;
      o.kills = p.kills;
      o.deaths = p.deaths;
      view.players.push(o);
    }
    ia = 0;
    ib = 0;
    for (const d of near.npcs) {
      ia = advance(a.npcs, d.id, ia);
      ib = advance(b.npcs, d.id, ib);
      const from = a.npcs[ia]?.id === d.id ? a.npcs[ia] : d;
      const to = b.npcs[ib]?.id === d.id ? b.npcs[ib] : d;
      const k = mix(from, to, t);
      const o = pooled(this.npcPool, view.npcs.length, newNpc);
      o.id = d.id;
      o.x = lerp(from.x, to.x, k);
      o.y = lerp(from.y, to.y, k);
      o.hp = d.hp;
      view.npcs.push(o);
    }
    for (const s of near.shots) {
      const o = pooled(this.shotPool, view.shots.length, newShot);
      o.id = s.id;
      o.x1 = s.x1;
      o.y1 = s.y1;
      o.x2 = s.x2;
      o.y2 = s.y2;
      o.owner = s.owner;
      o.hit = s.hit;
      view.shots.push(o);
    }
    return view;
  }
}

/**
 * Walks a cursor along a list sorted by id (the sim keeps every entity list so) to the
 * first entry whose id is at least `id`: called with ascending ids, a merge of two lists.
 */
function advance(list: readonly { id: number }[], id: number, from: number): number {
  let i = from;
  while (i < list.length && list[i].id < id) i++;
  return i;
}

/** The blend factor from p to q: t, unless the entity jumped (respawn), then 0 or 1. */
function mix(p: { x: number; y: number }, q: { x: number; y: number }, t: number): number {
  if (Math.abs(q.x - p.x) + Math.abs(q.y - p.y) <= JUMP) return t;
  return t < 0.5 ? 0 : 1;
}

function pooled<T>(pool: T[], i: number, make: () => T): T {
  let o = pool[i];
  if (!o) {
    o = make();
    pool.push(o);
  }
  return o;
}

const newPlayer = (): PlayerView => ({ id: 0, x: 0, y: 0, aim: 0, hp: 0, shield: false, score: 0, kills: 0, deaths: 0 });
const newNpc = (): NpcView => ({ id: 0, x: 0, y: 0, hp: 0 });
const newShot = (): ShotView => ({ id: 0, x1: 0, y1: 0, x2: 0, y2: 0, owner: 0, hit: 0 });
