import { WALLS } from './map.ts';

/** Distance along a unit ray (ox, oy) + t (dx, dy) to the first wall, or Infinity. Slab method. */
export function rayWall(ox: number, oy: number, dx: number, dy: number): number {
  let best = Infinity;
  for (const w of WALLS) {
    let tmin = -Infinity;
    let tmax = Infinity;
    if (dx !== 0) {
      const t1 = (w.x - ox) / dx;
      const t2 = (w.x + w.w - ox) / dx;
      tmin = Math.max(tmin, Math.min(t1, t2));
      tmax = Math.min(tmax, Math.max(t1, t2));
    } else if (ox < w.x || ox > w.x + w.w) continue;
    if (dy !== 0) {
      const t1 = (w.y - oy) / dy;
      const t2 = (w.y + w.h - oy) / dy;
      tmin = Math.max(tmin, Math.min(t1, t2));
      tmax = Math.min(tmax, Math.max(t1, t2));
    } else if (oy < w.y || oy > w.y + w.h) continue;
    if (tmax >= Math.max(tmin, 0) && tmin < best) best = Math.max(tmin, 0);
  }
  return best;
}

/** Distance along a unit ray to a circle, or Infinity when it misses; 0 when the ray starts inside it (point blank). */
export function rayCircle(ox: number, oy: number, dx: number, dy: number, cx: number, cy: number, r: number): number {
  const px = cx - ox;
  const py = cy - oy;
  const along = px * dx + py * dy;
  if (along <= 0) return Infinity;
  const d2 = px * px + py * py - along * along;
  if (d2 > r * r) return Infinity;
  return Math.max(0, along - Math.sqrt(r * r - d2));
}
