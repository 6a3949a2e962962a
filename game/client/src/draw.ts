/**
 * Paints the arena with Phaser Graphics (no image assets): the static map once,
 * then every frame the drones, players (body, aim line, hp bar, shield ring),
 * tracers and name labels. Labels are pooled Text objects, one per player id,
 * so a name is rasterized once, not per frame.
 */
import type Phaser from 'phaser';
import { ARENA_H, ARENA_W, NPC_MAX_HP, NPC_RADIUS, PLAYER_MAX_HP, PLAYER_RADIUS, SHOT_TTL } from '../../sim/constants.ts';
import { WALLS } from '../../sim/map.ts';
import type { FrameOut } from './match.ts';
import { COLORS, playerColor } from './palette.ts';
import type { PlayerView } from './view.ts';

const GRID = 80; // u between floor grid lines
const AIM_LEN = 12; // u the aim line reaches past the body
const HP_W = 32; // u
const LABEL_STYLE = {
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  fontSize: '12px',
  color: '#e6edf3',
  stroke: '#0d1117',
  strokeThickness: 3,
  // Rasterized at the screen's density (and kept 12 px on screen when the camera zooms out): readable names.
  resolution: Math.min(3, Math.max(1, window.devicePixelRatio || 1)),
};

/** Draws the floor, grid and walls into a Graphics that never changes. */
export function drawMap(g: Phaser.GameObjects.Graphics): void {
  g.fillStyle(COLORS.floor, 1);
  g.fillRect(0, 0, ARENA_W, ARENA_H);
  g.lineStyle(1, COLORS.grid, 1);
  for (let x = GRID; x < ARENA_W; x += GRID) g.lineBetween(x, 0, x, ARENA_H);
  for (let y = GRID; y < ARENA_H; y += GRID) g.lineBetween(0, y, ARENA_W, y);
  for (const w of WALLS) {
    g.fillStyle(COLORS.wall, 1);
    g.fillRect(w.x, w.y, w.w, w.h);
    g.lineStyle(2, COLORS.wallEdge, 1);
    g.strokeRect(w.x + 1, w.y + 1, w.w - 2, w.h - 2);
  }
}

/** Bakes the drone shapes (healthy, hurt) into textures: 200 drones become 200 batched quads. */
export function makeDroneTextures(scene: Phaser.Scene): void {
  const r = NPC_RADIUS;
  for (const [key, color] of [['drone', COLORS.npc], ['drone-hurt', COLORS.npcHurt]] as const) {
    const g = scene.make.graphics({}, false);
    g.fillStyle(color, 1);
    g.fillTriangle(r + 1, 1, 2 * r + 1, r + 1, r + 1, 2 * r + 1);
    g.fillTriangle(r + 1, 1, 1, r + 1, r + 1, 2 * r + 1);
    g.fillStyle(COLORS.background, 1);
    g.fillCircle(r + 1, r + 1, 3);
    g.generateTexture(key, 2 * r + 2, 2 * r + 2);
    g.destroy();
  }
}

export class Painter {
  private readonly labels = new Map<number, Phaser.GameObjects.Text>();
  /** What each label was last built from. */
  private readonly labelKeys = new Map<number, { name: string; own: boolean }>();
  private readonly seen = new Set<number>();
  private readonly drones: Phaser.GameObjects.Image[] = [];
  /** Scale of name labels: 1 / camera zoom, so names stay the same size on screen. */
  labelScale = 1;

  constructor(
    private readonly scene: Phaser.Scene,
    private readonly g: Phaser.GameObjects.Graphics,
    private readonly name: (id: number) => string,
    private readonly connected: (id: number) => boolean,
  ) {}

  /** Redraws everything that moves. Returns the own player's drawn position, if any. */
  draw(out: FrameOut, now: number): { x: number; y: number } | null {
    const g = this.g;
    g.clear();
    this.seen.clear();
    const w = out.world;
    let ownAt: { x: number; y: number } | null = null;
    if (w) {
      let used = 0;
      for (const n of w.npcs) if (n.hp > 0) this.npc(used++, n.x, n.y, n.hp);
      for (let i = used; i < this.drones.length; i++) this.drones[i].setVisible(false);
      for (const s of w.shots) {
        // Our tracers were drawn the moment we fired; the server's copy only adds its verdict (the hit mark).
        if (s.owner !== out.me) {
          g.lineStyle(2, playerColor(s.owner), 0.9);
          g.lineBetween(s.x1, s.y1, s.x2, s.y2);
        }
        if (s.hit) {
          g.fillStyle(COLORS.hit, 0.9);
          g.fillCircle(s.x2, s.y2, 4);
        }
      }
      for (const p of w.players) {
        if (p.id === out.me) {
          const at = out.ownPos ?? { x: p.x, y: p.y };
          if (p.hp > 0) ownAt = at;
          this.player(p, at.x, at.y, out.ownAim, true);
        } else {
          this.player(p, p.x, p.y, p.aim, false);
        }
      }
    }
    for (const s of out.localShots) {
      const a = Math.max(0, Math.min(1, (s.until - now) / (SHOT_TTL * 1000)));
      g.lineStyle(2, COLORS.tracerOwn, a);
      g.lineBetween(s.x1, s.y1, s.x2, s.y2);
    }
    for (const [id, t] of this.labels) {
      if (this.seen.has(id)) continue;
      t.destroy();
      this.labels.delete(id);
      this.labelKeys.delete(id);
    }
    return ownAt;
  }

  private npc(i: number, x: number, y: number, hp: number): void {
    let img = this.drones[i];
    if (!img) {
      img = this.scene.add.image(x, y, 'drone').setDepth(0.5);
      this.drones.push(img);
    }
    const key = hp < NPC_MAX_HP ? 'drone-hurt' : 'drone';
    if (img.texture.key !== key) img.setTexture(key);
    img.setPosition(x, y).setVisible(true);
  }

  private player(p: PlayerView, x: number, y: number, aim: number, own: boolean): void {
    const label = this.label(p.id, own);
    if (p.hp <= 0) {
      label.setVisible(false);
      this.g.lineStyle(2, playerColor(p.id), 0.35);
      this.g.strokeCircle(x, y, PLAYER_RADIUS);
      return;
    }
    const g = this.g;
    const r = PLAYER_RADIUS;
    const body = own ? COLORS.own : playerColor(p.id);
    const alpha = own || this.connected(p.id) ? 1 : 0.4; // dropped players wait, faded, for their resume
    label.setAlpha(alpha);
    if (own) {
      g.fillStyle(COLORS.own, 0.12);
      g.fillCircle(x, y, r + 10);
    }
    g.fillStyle(body, alpha);
    g.fillCircle(x, y, r);
    g.lineStyle(2, own ? 0xffffff : COLORS.background, own ? 0.95 : 0.6);
    g.strokeCircle(x, y, r);
    g.lineStyle(4, own ? 0xffffff : body, alpha);
    g.lineBetween(x + Math.cos(aim) * (r - 4), y + Math.sin(aim) * (r - 4), x + Math.cos(aim) * (r + AIM_LEN), y + Math.sin(aim) * (r + AIM_LEN));
    if (p.shield) {
      g.lineStyle(2, COLORS.shield, 0.8);
      g.strokeCircle(x, y, r + 5);
    }
    const hpFrac = Math.max(0, Math.min(1, p.hp / PLAYER_MAX_HP));
    g.fillStyle(COLORS.hpBack, 0.9);
    g.fillRect(x - HP_W / 2, y - r - 9, HP_W, 4);
    g.fillStyle(hpFrac > 0.35 ? COLORS.hpGood : COLORS.hpLow, 1);
    g.fillRect(x - HP_W / 2, y - r - 9, HP_W * hpFrac, 4);
    label.setVisible(true).setPosition(x, y - r - 11).setScale(this.labelScale);
  }

  private label(id: number, own: boolean): Phaser.GameObjects.Text {
    this.seen.add(id);
    let t = this.labels.get(id);
    const name = this.name(id);
    // The label text is only rebuilt when the name (or whose it is) changed, not every frame.
    const key = this.labelKeys.get(id);
    if (t && key && key.name === name && key.own === own) return t;
    const text = own ? `${name} (you)` : name;
    if (!t) {
      t = this.scene.add.text(0, 0, text, LABEL_STYLE).setOrigin(0.5, 1).setDepth(10);
      if (own) t.setColor('#ffd33d');
      this.labels.set(id, t);
    } else if (t.text !== text) {
      t.setText(text);
    }
    if (key) {
      key.name = name;
      key.own = own;
    } else {
      this.labelKeys.set(id, { name, own });
    }
    return t;
  }
}
