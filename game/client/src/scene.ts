/**
 * The arena scene (Phaser 4, WebGL, shapes only). Each frame it turns the
 * player's controls into an intent, runs the match (netcode) for `now`, paints
 * the result, moves the camera, refreshes the HUD, and measures how long all of
 * that took (the client's frame work time in the netgraph).
 *
 * Time comes from the injected clock (the bootstrap's performance.now).
 */
import Phaser from 'phaser';
import { ARENA_H, ARENA_W } from '../../sim/constants.ts';
import type { Controls } from './controls.ts';
import { drawMap, makeDroneTextures, Painter } from './draw.ts';
import type { Match } from './match.ts';
import { COLORS } from './palette.ts';
import type { TouchControls } from './touch.ts';

export interface SceneDeps {
  match: Match;
  controls: Controls;
  touch: TouchControls;
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

  constructor(private readonly deps: SceneDeps) {
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

  /** Shows about 960×720 u where the screen allows, never zooming in past 1:1 nor out past half. */
  private fitZoom(): void {
    const cam = this.cameras.main;
    cam.setZoom(Math.max(0.5, Math.min(1, cam.width / 960, cam.height / 720)));
    this.painter.labelScale = 1 / cam.zoom;
  }

  /** Screen (canvas CSS px) position of a world point, as last rendered. */
  screenOf(x: number, y: number): { x: number; y: number } {
    const cam = this.cameras.main;
    return { x: (x - cam.worldView.x) * cam.zoom, y: (y - cam.worldView.y) * cam.zoom };
  }

  update(): void {
    const { match, controls, touch, clock } = this.deps;
    const t0 = clock();
    const cam = this.cameras.main;
    let aim: number | null = null;
    let buttons = controls.buttons();
    if (touch.active) {
      buttons |= touch.buttons();
      aim = touch.aim();
      if (touch.fire()) buttons |= 16;
    }
    if (aim === null && controls.pointer) {
      const world = cam.getWorldPoint(controls.pointer.x, controls.pointer.y, this.pointerWorld);
      aim = Math.atan2(world.y - this.lastFocus.y, world.x - this.lastFocus.x);
    }
    const out = match.frame(t0, { buttons, aim });
    const ownAt = this.painter.draw(out, t0);
    if (ownAt) this.lastFocus = ownAt;
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
  }
}

/** Starts Phaser in #game with the arena scene. */
export function startPhaser(deps: SceneDeps): { game: Phaser.Game; scene: ArenaScene } {
  const scene = new ArenaScene(deps);
  const game = new Phaser.Game({
    type: Phaser.AUTO,
    parent: 'game',
    backgroundColor: '#0d1117',
    banner: false,
    disableContextMenu: true,
    scale: { mode: Phaser.Scale.RESIZE, width: '100%', height: '100%' },
    input: { keyboard: false, mouse: false, touch: false, gamepad: false },
    render: { antialias: false },
    scene,
  });
  return { game, scene };
}
