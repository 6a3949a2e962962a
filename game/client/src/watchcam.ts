/**
 * A spectator's camera: on one player (chosen, or until one is chosen the leader),
 * or free (WASD / arrows pan it, dragging the arena moves it). Pure: the frame's
 * players, the pan input, where the camera is now and `now` go in; where to look
 * comes out (null: stay where it is). The scene keeps the view inside the arena.
 *
 * The leader ("auto") is sticky: the camera stays on the player it is on while that
 * one is alive, rather than jumping at every change of the lead.
 */

export interface CamPlayer {
  id: number;
  x: number;
  y: number;
  hp: number;
  score: number;
}

export interface PanInput {
  /** Held pan keys: -1, 0 or 1 on each axis (screen axes, +y down). */
  keyX: number;
  keyY: number;
  /** CSS px the arena was dragged since the last update. */
  dragX: number;
  dragY: number;
}

export const NO_PAN: PanInput = { keyX: 0, keyY: 0, dragX: 0, dragY: 0 };
export const PAN_SPEED = 700; // u/s while a pan key is held
export const PICK_RADIUS = 40; // u: a click this close to a player follows it
const MAX_STEP_S = 0.1; // a stalled frame does not fling the free camera across the map

export type CameraChoice = 'auto' | 'free' | number;

export class WatchCamera {
  private mode: CameraChoice = 'auto';
  private lastAt: number | null = null;
  /** The player the camera was on at the last update (0: none, or the free camera). */
  following = 0;

  /** 'auto' (the leader), 'free', or the id of the player followed. */
  get choice(): CameraChoice {
    return this.mode;
  }

  /** Follow player `id`; 0: the leader. */
  follow(id: number): void {
    this.mode = id > 0 ? id : 'auto';
  }

  free(): void {
    this.mode = 'free';
    this.following = 0;
  }

  /** A click on the arena at world (x, y): follows the nearest player within PICK_RADIUS. True when it did. */
  pick(x: number, y: number, players: readonly CamPlayer[]): boolean {
    let best: CamPlayer | null = null;
    let bestD = PICK_RADIUS;
    for (const p of players) {
      const d = Math.hypot(p.x - x, p.y - y);
      if (d <= bestD) {
        best = p;
        bestD = d;
      }
    }
    if (best) this.follow(best.id);
    return best !== null;
  }

  /**
   * Where to look at `now` (ms). `centre`: where the camera is (world u); `scale`: CSS px
   * per world unit (to turn a drag into world units). Any pan input makes the camera free.
   */
  update(now: number, players: readonly CamPlayer[], pan: PanInput, centre: { x: number; y: number }, scale: number): { x: number; y: number } | null {
    const dt = this.lastAt === null ? 0 : Math.min(MAX_STEP_S, Math.max(0, now - this.lastAt) / 1000);
    this.lastAt = now;
    const moved = pan.dragX !== 0 || pan.dragY !== 0 || pan.keyX !== 0 || pan.keyY !== 0;
    if (moved) this.free();
    if (this.mode === 'free') {
      if (!moved) return null;
      const k = scale > 0 ? scale : 1;
      return { x: centre.x - pan.dragX / k + pan.keyX * PAN_SPEED * dt, y: centre.y - pan.dragY / k + pan.keyY * PAN_SPEED * dt };
    }
    const target = this.mode === 'auto' ? this.leader(players) : players.find((p) => p.id === this.mode);
    if (!target) return null;
    this.following = target.id;
    return { x: target.x, y: target.y };
  }

  /** The player the camera stays on, alive, else the best score alive (lowest id on a tie), else anyone. */
  private leader(players: readonly CamPlayer[]): CamPlayer | undefined {
    const current = players.find((p) => p.id === this.following);
    if (current && current.hp > 0) return current;
    let best: CamPlayer | undefined;
    for (const p of players) {
      if (!best || (p.hp > 0 && best.hp <= 0) || ((p.hp > 0) === (best.hp > 0) && (p.score > best.score || (p.score === best.score && p.id < best.id)))) best = p;
    }
    return best;
  }
}
