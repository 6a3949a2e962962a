/**
 * The arena scene (Phaser 4, WebGL, shapes only). Each frame it turns the
 * player's controls into an intent, runs the match (netcode) for `now`, paints
 * the result, moves the camera, refreshes the HUD, and measures how long all of
 * that took (the client's frame work time in the netgraph).
 *
 * Time comes from the injected clock (the bootstrap's performance.now).
 *
 * What it draws comes from a FrameSource: the live Match, or the replay viewer's
 * re-simulated frames (replayframes.ts), which has no controls and aims the camera
 * itself (`camera`); both are painted by the same Painter.
 *
 * The canvas is drawn at the screen's density: its backing store is devicePixelRatio ×
 * its CSS size (Phaser's scale `zoom` shrinks it back on the page), and the camera zoom
 * includes that ratio, so the view shows the same world area whatever the density, and
 * a 2× screen gets twice the pixels instead of a blurred upscale. Pointer and screenOf
 * speak CSS pixels, like the DOM.
 */
import Phaser from 'phaser';
import { ARENA_H, ARENA_W } from '../../sim/constants.ts';
import type { Controls } from './controls.ts';
import { drawMap, makeDroneTextures, Painter } from './draw.ts';
import type { FrameOut, Intent } from './match.ts';
import { COLORS } from './palette.ts';
import type { TouchControls } from './touch.ts';

/** What the scene draws each frame: the live Match, or a replay (replayframes.ts). */
export interface FrameSource {
  frame(now: number, intent: Intent): FrameOut;
  /** The frame's work time (ms), for the netgraph. */
  recordWork(ms: number): void;
}

export interface SceneDeps {
  match: FrameSource;
  /** The player's input; absent (a replay): no intent. */
  controls?: Controls;
  touch?: TouchControls;
  /** Where the camera looks (world u), when not at the own player; null: where it last looked. */
  camera?: () => { x: number; y: number } | null;
  clock: () => number;
  name: (id: number) => string;
  connected: (id: number) => boolean;
  /** HUD, netgraph, window.tickwire: DOM work of the frame, after drawing. */
  afterFrame: (now: number) => void;
}

export class ArenaScene extends Phaser.Scene {
  private painter!: Painter;
  private lastFocus = { x: ARENA_W / 2, y: ARENA_H / 2 };
  private readonly pointerWorld = new Phaser.Math.Vector2();
  /** The aim of the last frame's intent (radians), or null when none was given. */
  lastAim: number | null = null;
  /** Where the camera was centred last frame (world u, kept inside the arena): a free camera moves on from here. */
  readonly centre = { x: ARENA_W / 2, y: ARENA_H / 2 };

  constructor(private readonly deps: SceneDeps, private readonly density: number) {
    super('arena');
  }

  create(): void {
    this.cameras.main.setBackgroundColor(COLORS.background);
    // The map never changes: bake it into one texture instead of re-tessellating it every frame.
    const map = this.make.graphics({}, false);
    drawMap(map);
    map.generateTexture('arena-map', ARENA_W, ARENA_H);
    map.destroy();
    this.add.image(0, 0, 'arena-map').setOrigin(0, 0).setDepth(0);
    makeDroneTextures(this);
    this.painter = new Painter(this, this.add.graphics().setDepth(1), this.deps.name, this.deps.connected);
    this.scale.on('resize', () => this.fitZoom());
    this.fitZoom();
  }

  /** Shows about 960×720 u where the screen allows (in CSS px), never zooming in past 1:1 nor out past half. */
  private fitZoom(): void {
    const cam = this.cameras.main;
    const d = this.density;
    cam.setZoom(d * Math.max(0.5, Math.min(1, cam.width / d / 960, cam.height / d / 720)));
    this.painter.labelScale = d / cam.zoom;
  }

  /** Screen (canvas CSS px) position of a world point, as last rendered. */
  screenOf(x: number, y: number): { x: number; y: number } {
    const cam = this.cameras.main;
    const k = cam.zoom / this.density;
    return { x: (x - cam.worldView.x) * k, y: (y - cam.worldView.y) * k };
  }

  update(): void {
    const { match, controls, touch, clock, camera } = this.deps;
    const t0 = clock();
    const cam = this.cameras.main;
    let aim: number | null = null;
    let buttons = controls?.buttons() ?? 0;
    if (touch?.active) {
      buttons |= touch.buttons();
      aim = touch.aim();
      if (touch.fire()) buttons |= 16;
    }
    if (aim === null && controls?.pointer) {
      const d = this.density;
      const world = cam.getWorldPoint(controls.pointer.x * d, controls.pointer.y * d, this.pointerWorld);
      aim = Math.atan2(world.y - this.lastFocus.y, world.x - this.lastFocus.x);
    }
    this.lastAim = aim;
    const out = match.frame(t0, { buttons, aim });
    const ownAt = this.painter.draw(out, t0);
    if (ownAt) this.lastFocus = ownAt;
    const look = camera?.();
    if (look) this.lastFocus = look;
    this.follow(this.lastFocus.x, this.lastFocus.y);
    this.deps.afterFrame(t0);
    match.recordWork(clock() - t0);
  }

  /** Centres the camera on (x, y), kept inside the arena (centred when the arena is smaller than the view). */
  private follow(x: number, y: number): void {
    const cam = this.cameras.main;
    const vw = cam.width / cam.zoom;
    const vh = cam.height / cam.zoom;
    const cx = vw >= ARENA_W ? ARENA_W / 2 : Math.min(ARENA_W - vw / 2, Math.max(vw / 2, x));
    const cy = vh >= ARENA_H ? ARENA_H / 2 : Math.min(ARENA_H - vh / 2, Math.max(vh / 2, y));
    cam.centerOn(cx, cy);
    this.centre.x = cx;
    this.centre.y = cy;
  }
}

/** The canvas's pixels per CSS pixel: the screen's, within 1–3 (more costs fill rate for nothing seen). */
export const screenDensity = (): number => Math.min(3, Math.max(1, window.devicePixelRatio || 1));

/** Starts Phaser in #game (which fills the window) with the arena scene, at the screen's density. */
export function startPhaser(deps: SceneDeps): { game: Phaser.Game; scene: ArenaScene; stop: () => void } {
  const d = screenDensity();
  const size = () => ({ w: Math.round(window.innerWidth * d), h: Math.round(window.innerHeight * d) });
  const scene = new ArenaScene(deps, d);
  const { w, h } = size();
  const game = new Phaser.Game({
    type: Phaser.AUTO,
    parent: 'game',
    backgroundColor: '#0d1117',
    banner: false,
    disableContextMenu: true,
    // NONE + zoom 1/d: a canvas of w × h device pixels shown at the window's CSS size.
    scale: { mode: Phaser.Scale.NONE, width: w, height: h, zoom: 1 / d },
    input: { keyboard: false, mouse: false, touch: false, gamepad: false },
    render: { antialias: false },
    scene,
  });
  const onResize = () => {
    const s = size();
    game.scale.resize(s.w, s.h);
  };
  window.addEventListener('resize', onResize);
  return { game, scene, stop: () => window.removeEventListener('resize', onResize) };
}
