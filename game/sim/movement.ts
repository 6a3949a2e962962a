import { BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP, PLAYER_RADIUS, PLAYER_SPEED } from './constants.ts';
import { WALL_EDGES } from './map.ts';
import { snap } from './state.ts';

/**
 * Moves a box of half-size r by (dx, dy), one axis at a time, stopping flush
 * against walls. Wall edges and r are whole units, so a stop lands on the grid;
 * the result is snapped to the position grid.
 */
export function sweep(x: number, y: number, dx: number, dy: number, r: number): { x: number; y: number; blockedX: boolean; blockedY: boolean } {
  const e = WALL_EDGES;
  let nx = x + dx;
  let blockedX = false;
  if (dx !== 0) {
    for (let i = 0; i < e.length; i += 4) {
      const left = e[i];
      const right = e[i + 2];
      if (y + r <= e[i + 1] || y - r >= e[i + 3]) continue;
      if (dx > 0 && x + r <= left && nx + r > left) { nx = left - r; blockedX = true; }
      else if (dx < 0 && x - r >= right && nx - r < right) { nx = right + r; blockedX = true; }
    }
    nx = snap(nx);
  }
  let ny = y + dy;
  let blockedY = false;
  if (dy !== 0) {
    for (let i = 0; i < e.length; i += 4) {
      const top = e[i + 1];
      const bottom = e[i + 3];
      if (nx + r <= e[i] || nx - r >= e[i + 2]) continue;
      if (dy > 0 && y + r <= top && ny + r > top) { ny = top - r; blockedY = true; }
      else if (dy < 0 && y - r >= bottom && ny - r < bottom) { ny = bottom + r; blockedY = true; }
    }
    ny = snap(ny);
  }
  return { x: nx, y: ny, blockedX, blockedY };
}

/**
 * One step of a living player's movement from its buttons: the whole of what a
 * client predicts. Pure: no clock, no RNG, nothing read outside its arguments
 * and the static map. Server ticks and client replays call this same function,
 * so with the same inputs they reach the same grid position bit for bit.
 */
export function movePlayer(x: number, y: number, buttons: number, dt: number): { x: number; y: number } {
  let ix = 0;
  let iy = 0;
  if (buttons & BTN_LEFT) ix -= 1;
  if (buttons & BTN_RIGHT) ix += 1;
  if (buttons & BTN_UP) iy -= 1;
  if (buttons & BTN_DOWN) iy += 1;
  if (ix === 0 && iy === 0) return { x, y };
  const speed = ix !== 0 && iy !== 0 ? PLAYER_SPEED * Math.SQRT1_2 : PLAYER_SPEED;
  const r = sweep(x, y, ix * speed * dt, iy * speed * dt, PLAYER_RADIUS);
  return { x: r.x, y: r.y };
}

/** 16-bit binary angle to radians. */
export const aimToRadians = (aim: number): number => (aim / 65536) * Math.PI * 2;

/** Radians to the nearest 16-bit binary angle. */
export function radiansToAim(rad: number): number {
  const turns = rad / (Math.PI * 2);
  return ((Math.round((turns - Math.floor(turns)) * 65536) % 65536) + 65536) % 65536;
}
