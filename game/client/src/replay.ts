/**
 * The replay viewer (`#/replay/ID`): fetches a recorded match, re-simulates it
 * with game/sim (replayframes.ts) and draws it with the game's own scene and
 * Painter, under the game's HUD (round clock, scoreboard at that moment, kill
 * feed) and a control bar (replaybar.ts): play, pause, seek, speed, and a camera
 * that follows a chosen player or moves freely (drag the arena, or WASD/arrows).
 * Space plays and pauses.
 *
 * window.tickwire.replay tells tests what is drawn: `tick`, `playing`, `speed`,
 * `follow` (player id, 0 = free camera; the last three settable), `entities()` (the
 * players and live drones as last drawn), `seek(tick)` and `keyframes` (world ticks).
 *
 * Time is the injected clock; the viewer starts no timers (Phaser's frames drive it).
 */
import type Phaser from 'phaser';
import type { GameEvent } from '../../sim/state.ts';
import { byId } from './dom.ts';
import { Hud, type Member, type Score } from './hud.ts';
import { ReplayBar } from './replaybar.ts';
import { fetchReplay } from './replayfile.ts';
import { ReplayFrames, SPEEDS } from './replayframes.ts';
import { type ArenaScene, startPhaser } from './scene.ts';
import { WatchCamera } from './watchcam.ts';

export interface ReplayViewerOptions {
  id: string;
  clock: () => number;
}

export interface ReplayHooks {
  readonly id: string;
  readonly tick: number;
  playing: boolean;
  speed: number;
  follow: number;
  readonly startTick: number;
  readonly steps: number;
  readonly keyframes: number[];
  entities(): { id: number; kind: 'player' | 'npc'; x: number; y: number }[];
  seek(tick: number): void;
}

const PAN_KEYS: Record<string, [number, number]> = {
  KeyW: [0, -1], ArrowUp: [0, -1], KeyS: [0, 1], ArrowDown: [0, 1],
  KeyA: [-1, 0], ArrowLeft: [-1, 0], KeyD: [1, 0], ArrowRight: [1, 0],
};

/** Keys typed into a control belong to the control (a focused slider takes the arrows, a button Space). */
const inControl = (e: Event): boolean => {
  const t = e.target as HTMLElement | null;
  return !!t && /^(INPUT|SELECT|BUTTON|TEXTAREA|A)$/.test(t.tagName);
};

export class ReplayViewer {
  private readonly bar: ReplayBar;
  private readonly abort = new AbortController();
  private frames: ReplayFrames | null = null;
  private hud: Hud | null = null;
  private phaser: { game: Phaser.Game; scene: ArenaScene; stop: () => void } | null = null;
  private closed = false;
  /** The spectator's camera (watchcam.ts), never on 'auto' here: a player, or free. */
  private readonly cam = new WatchCamera();
  /** Screen px the free camera was dragged since the last frame, and the keys held. */
  private dragX = 0;
  private dragY = 0;
  private drag: { x: number; y: number } | null = null;
  private readonly held = new Set<string>();
  private readonly roster = new Map<number, Member>();
  private readonly scores = new Map<number, Score>();
  private boardAt = -1;

  constructor(private readonly opts: ReplayViewerOptions) {
    this.bar = new ReplayBar({
      play: () => this.setPlaying(!this.frames?.playing),
      seek: (step) => this.frames?.seek(step),
      speed: (speed) => this.setSpeed(speed),
      follow: (id) => this.setFollow(id),
    });
    document.body.classList.add('replaying');
    void this.load();
  }

  private async load(): Promise<void> {
    const got = await fetchReplay(this.opts.id);
    if (this.closed) return;
    if (!got.ok) {
      this.bar.say(`Replay ${this.opts.id} cannot be shown: ${got.reason}`);
      return;
    }
    const rec = got.rec;
    let frames: ReplayFrames;
    try {
      frames = new ReplayFrames(rec, (e, now) => this.event(e, now));
    } catch (err) {
      // A keyframe game/sim refuses (another build's world): said, not a blank screen.
      this.bar.say(`Replay ${this.opts.id} cannot be shown: ${(err as Error).message}`);
      return;
    }
    frames.playing = true; // it opens playing, from the start
    this.frames = frames;
    const names = frames.replay.names;
    const when = new Date(rec.startedAt).toLocaleString();
    this.bar.ready(`Replay · room ${rec.room} · ${when}`, frames.steps, frames.tickRate, [rec.start, ...rec.keyframes].map((k) => k.at), rec.players);
    this.setFollow(rec.players[0]?.[0] ?? 0); // the first to play; the camera waits where it is while they are not in
    this.bar.showSpeed(frames.speed);
    this.hud = new Hud();
    this.listen();
    this.phaser = startPhaser({
      match: frames,
      clock: this.opts.clock,
      name: (id) => names.get(id) ?? `Player ${id}`,
      connected: () => true, // a player who left is no longer in the world at all
      camera: () => this.camera(),
      afterFrame: (now) => this.afterFrame(now),
    });
    this.expose(frames);
  }

  private setPlaying(on: boolean): void {
    if (this.frames) this.frames.playing = on;
  }

  private setSpeed(speed: number): void {
    if (!this.frames || !(SPEEDS as readonly number[]).includes(speed)) return;
    this.frames.speed = speed;
    this.bar.showSpeed(speed);
  }

  /** The player followed (0: the free camera). */
  private get followId(): number {
    const c = this.cam.choice;
    return typeof c === 'number' ? c : 0;
  }

  private setFollow(id: number): void {
    if (id > 0) this.cam.follow(id);
    else this.cam.free();
    this.bar.showFollow(id);
  }

  /** A kill or a round turning, as the game's HUD shows them. */
  private event(e: GameEvent, now: number): void {
    const hud = this.hud;
    const names = this.frames?.replay.names;
    if (!hud || !names) return;
    const name = (id: number) => names.get(id) ?? `Player ${id}`;
    if (e.kind === 'kill') hud.killed(name(e.killer), name(e.victim), now);
    else if (e.kind === 'round_start') hud.roundStarted(e.round, now);
  }

  /** Where the camera looks this frame: the followed player, or the free camera moved on by drags and keys. */
  private camera(): { x: number; y: number } | null {
    const scene = this.phaser?.scene;
    if (!scene) return null;
    let keyX = 0;
    let keyY = 0;
    for (const code of this.held) {
      keyX += PAN_KEYS[code][0];
      keyY += PAN_KEYS[code][1];
    }
    const pan = { keyX, keyY, dragX: this.dragX, dragY: this.dragY };
    this.dragX = this.dragY = 0;
    const scale = scene.screenOf(1, 0).x - scene.screenOf(0, 0).x; // CSS px per u
    return this.cam.update(this.opts.clock(), this.frames?.drawn?.players ?? [], pan, scene.centre, scale);
  }

  private afterFrame(now: number): void {
    const frames = this.frames;
    const hud = this.hud;
    if (!frames || !hud) return;
    this.bar.update(frames.at, frames.seconds, frames.playing);
    const world = frames.world;
    if (frames.at !== this.boardAt) {
      this.boardAt = frames.at;
      this.roster.clear();
      this.scores.clear();
      for (const p of world.players) {
        this.roster.set(p.id, { name: frames.replay.names.get(p.id) ?? `Player ${p.id}`, connected: true });
        this.scores.set(p.id, { score: p.score, kills: p.kills, deaths: p.deaths });
      }
    }
    hud.update(now, frames.drawn?.round ?? null, this.scores, 0, this.roster, false, frames.at);
  }

  /** Drag the arena to look around (the free camera); WASD/arrows pan; Space plays and pauses. */
  private listen(): void {
    const signal = this.abort.signal;
    const host = byId('game');
    host.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      this.drag = { x: e.clientX, y: e.clientY };
      host.setPointerCapture?.(e.pointerId);
      (document.activeElement as HTMLElement | null)?.blur?.();
    }, { signal });
    host.addEventListener('pointermove', (e) => {
      if (!this.drag) return;
      const dx = e.clientX - this.drag.x;
      const dy = e.clientY - this.drag.y;
      if (dx === 0 && dy === 0) return;
      if (this.followId) this.setFollow(0);
      this.dragX += dx;
      this.dragY += dy;
      this.drag = { x: e.clientX, y: e.clientY };
    }, { signal });
    const end = () => { this.drag = null; };
    host.addEventListener('pointerup', end, { signal });
    host.addEventListener('pointercancel', end, { signal });
    window.addEventListener('keydown', (e) => {
      if (inControl(e)) return;
      if (e.code === 'Space') {
        e.preventDefault();
        if (!e.repeat) this.setPlaying(!this.frames?.playing);
      } else if (e.code in PAN_KEYS) {
        e.preventDefault();
        if (this.followId) this.setFollow(0);
        this.held.add(e.code);
      }
    }, { signal });
    window.addEventListener('keyup', (e) => { this.held.delete(e.code); }, { signal });
    window.addEventListener('blur', () => this.held.clear(), { signal });
  }

  private expose(frames: ReplayFrames): void {
    const viewer = this;
    const hooks: ReplayHooks = {
      id: this.opts.id,
      get tick() { return frames.tick; },
      get playing() { return frames.playing; },
      set playing(on: boolean) { viewer.setPlaying(on); },
      get speed() { return frames.speed; },
      set speed(s: number) { viewer.setSpeed(s); },
      get follow() { return viewer.followId; },
      set follow(id: number) { viewer.setFollow(id); },
      startTick: frames.rec.startTick,
      steps: frames.steps,
      keyframes: frames.keyframeTicks,
      entities: () => {
        const w = frames.drawn;
        if (!w) return [];
        return [
          ...w.players.map((p) => ({ id: p.id, kind: 'player' as const, x: p.x, y: p.y })),
          ...w.npcs.filter((n) => n.hp > 0).map((n) => ({ id: n.id, kind: 'npc' as const, x: n.x, y: n.y })),
        ];
      },
      seek: (tick: number) => frames.seek(tick - frames.rec.startTick),
    };
    (window as unknown as { tickwire?: { replay?: ReplayHooks } }).tickwire = { replay: hooks };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.bar.destroy();
    this.hud?.destroy();
    if (this.phaser) {
      this.phaser.stop();
      this.phaser.game.destroy(true);
    }
    document.body.classList.remove('replaying');
    const tw = (window as unknown as { tickwire?: { replay?: ReplayHooks } }).tickwire;
    if (tw?.replay?.id === this.opts.id) delete tw.replay;
  }
}
