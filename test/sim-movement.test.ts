/** Player movement: speed on the 1/8 grid, wall stops, and the client-prediction contract. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARENA_W,
  BTN_DOWN,
  BTN_FIRE,
  BTN_LEFT,
  BTN_RIGHT,
  BTN_UP,
  boxHitsWall,
  movePlayer,
  PLAYER_RADIUS,
  PLAYER_SPEED,
  snap,
  step,
  sweep,
  WALLS,
} from '../game/sim/index.ts';
import { byId, DT30, DT60, input, inputs, last, onGrid, player, run, world } from './helpers/sim.ts';

// (400, 400) has open floor for well over 20 u in every direction.
const OPEN = { x: 400, y: 400 };

function moveOnce(buttons: number, dt: number, at = OPEN): { x: number; y: number } {
  const w = world([player(1, at.x, at.y)]);
  const p = byId(step(w, inputs({ 1: input(buttons) }), dt).players, 1);
  return { x: p.x, y: p.y };
}

describe('player movement', () => {
  it.each([DT30, DT60])('each direction moves PLAYER_SPEED*dt, snapped to the grid (dt=%s)', (dt) => {
    const d = snap(PLAYER_SPEED * dt);
    expect(d).toBeGreaterThan(0);
    expect(moveOnce(BTN_RIGHT, dt)).toEqual({ x: OPEN.x + d, y: OPEN.y });
    expect(moveOnce(BTN_LEFT, dt)).toEqual({ x: OPEN.x - d, y: OPEN.y });
    expect(moveOnce(BTN_UP, dt)).toEqual({ x: OPEN.x, y: OPEN.y - d });
    expect(moveOnce(BTN_DOWN, dt)).toEqual({ x: OPEN.x, y: OPEN.y + d });
    expect(moveOnce(BTN_LEFT | BTN_RIGHT | BTN_UP | BTN_DOWN, dt)).toEqual(OPEN);
    expect(moveOnce(0, dt)).toEqual(OPEN);
  });

  it('diagonals are normalized: each axis gets speed/√2, the total is PLAYER_SPEED*dt', () => {
    const d = snap(PLAYER_SPEED * DT30 * Math.SQRT1_2);
    const p = moveOnce(BTN_DOWN | BTN_RIGHT, DT30);
    expect(p).toEqual({ x: OPEN.x + d, y: OPEN.y + d });
    expect(moveOnce(BTN_UP | BTN_LEFT, DT30)).toEqual({
      x: OPEN.x - d,
      y: OPEN.y - d,
    });
    // Over a second the grid rounding must not add up to a faster diagonal.
    const end = byId(
      last(run(world([player(1, OPEN.x, OPEN.y)]), 30, inputs({ 1: input(BTN_DOWN | BTN_RIGHT) }))).players,
      1,
    );
    expect(Math.hypot(end.x - OPEN.x, end.y - OPEN.y)).toBeCloseTo(PLAYER_SPEED, -1);
  });

  it.each([
    {
      name: 'right into the border',
      at: { x: ARENA_W - 24 - PLAYER_RADIUS - 3, y: 400 },
      b: BTN_RIGHT,
      want: { x: ARENA_W - 24 - PLAYER_RADIUS, y: 400 },
    },
    {
      name: 'left into a side pillar',
      at: { x: 260 + PLAYER_RADIUS + 5, y: 600 },
      b: BTN_LEFT,
      want: { x: 260 + PLAYER_RADIUS, y: 600 },
    },
    {
      name: 'up into a corner block',
      at: { x: 380, y: 280 + PLAYER_RADIUS + 2 },
      b: BTN_UP,
      want: { x: 380, y: 280 + PLAYER_RADIUS },
    },
    {
      name: 'down into the centre bar',
      at: { x: 700, y: 580 - PLAYER_RADIUS - 1 },
      b: BTN_DOWN,
      want: { x: 700, y: 580 - PLAYER_RADIUS },
    },
  ])('walls stop the player flush: $name', ({ at, b, want }) => {
    const frames = run(world([player(1, at.x, at.y)]), 10, inputs({ 1: input(b) }));
    for (const f of frames) {
      const p = byId(f.players, 1);
      expect(boxHitsWall(p.x, p.y, PLAYER_RADIUS)).toBe(false);
    }
    expect(byId(last(frames).players, 1)).toMatchObject(want);
  });

  it('a diagonal into a wall slides along it', () => {
    // Flush under the corner block (280..480 × 240..280), pushing up-right: x keeps moving, y stays.
    const y = 280 + PLAYER_RADIUS;
    const p = byId(last(run(world([player(1, 380, y)]), 5, inputs({ 1: input(BTN_UP | BTN_RIGHT) }))).players, 1);
    expect(p.y).toBe(y);
    expect(p.x).toBe(380 + 5 * snap(PLAYER_SPEED * DT30 * Math.SQRT1_2));
  });

  it('a backlog of inputs moves one dt per input; no input stands still and keeps the aim', () => {
    const w = world([player(1, 400, 400, { aim: 777 })]);
    const backlog = [input(BTN_RIGHT, 10), input(BTN_RIGHT | BTN_DOWN, 20), input(BTN_UP, 30)];
    let want = { x: 400, y: 400 };
    for (const i of backlog) want = movePlayer(want.x, want.y, i.buttons, DT30);
    expect(byId(step(w, new Map([[1, backlog]]), DT30).players, 1)).toMatchObject({ ...want, aim: 30 });
    expect(byId(step(w, new Map([[1, []]]), DT30).players, 1)).toMatchObject({ x: 400, y: 400, aim: 777 });
    expect(byId(step(w, new Map(), DT30).players, 1)).toMatchObject({ x: 400, y: 400, aim: 777 });
  });

  it('dead players neither move nor turn', () => {
    const w = world([player(1, 400, 400, { hp: 0, respawn: 1.5, aim: 123 })]);
    const p = byId(last(run(w, 10, inputs({ 1: input(BTN_RIGHT | BTN_DOWN | BTN_FIRE, 9000) }))).players, 1);
    expect(p).toMatchObject({ x: 400, y: 400, aim: 123, hp: 0 });
  });

  it('property: replaying movePlayer over the inputs lands exactly where step puts the player', () => {
    fc.assert(
      fc.property(
        fc.record({
          x: fc.integer({ min: 40, max: 1560 }),
          y: fc.integer({ min: 40, max: 1160 }),
        }),
        fc.array(fc.integer({ min: 0, max: 15 }), {
          minLength: 1,
          maxLength: 200,
        }),
        fc.constantFrom(DT30, DT60),
        (start, buttons, dt) => {
          fc.pre(!boxHitsWall(start.x, start.y, PLAYER_RADIUS));
          let w = world([player(1, start.x, start.y)]);
          let predicted = { x: start.x, y: start.y };
          for (const b of buttons) {
            w = step(w, inputs({ 1: input(b) }), dt);
            predicted = movePlayer(predicted.x, predicted.y, b, dt);
            const p = byId(w.players, 1);
            expect({ x: p.x, y: p.y }).toEqual(predicted);
            expect(onGrid(p.x) && onGrid(p.y)).toBe(true);
            expect(boxHitsWall(p.x, p.y, PLAYER_RADIUS)).toBe(false);
          }
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });
});

describe('sweep against the walls as objects', () => {
  /** The sweep as first written, over WALLS' objects: the reference for the flat WALL_EDGES loop. */
  function reference(x: number, y: number, dx: number, dy: number, r: number) {
    let nx = x + dx;
    let blockedX = false;
    if (dx !== 0) {
      for (const w of WALLS) {
        if (y + r <= w.y || y - r >= w.y + w.h) continue;
        if (dx > 0 && x + r <= w.x && nx + r > w.x) { nx = w.x - r; blockedX = true; }
        else if (dx < 0 && x - r >= w.x + w.w && nx - r < w.x + w.w) { nx = w.x + w.w + r; blockedX = true; }
      }
      nx = snap(nx);
    }
    let ny = y + dy;
    let blockedY = false;
    if (dy !== 0) {
      for (const w of WALLS) {
        if (nx + r <= w.x || nx - r >= w.x + w.w) continue;
        if (dy > 0 && y + r <= w.y && ny + r > w.y) { ny = w.y - r; blockedY = true; }
        else if (dy < 0 && y - r >= w.y + w.h && ny - r < w.y + w.h) { ny = w.y + w.h + r; blockedY = true; }
      }
      ny = snap(ny);
    }
    return { x: nx, y: ny, blockedX, blockedY };
  }

  it('gives bit-identical results, also flush against and across every wall edge', () => {
    let s = 12345;
    const rand = () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const edges = WALLS.flatMap((w) => [w.x, w.y, w.x + w.w, w.y + w.h]);
    let blocked = 0;
    for (let i = 0; i < 20000; i++) {
      const r = [PLAYER_RADIUS, 10, 0.5][i % 3];
      // Half the starts sit on a wall edge ± r (the cases that stop), the rest anywhere.
      const near = (v: number) => (rand() < 0.5 ? edges[Math.floor(rand() * edges.length)] + (rand() < 0.5 ? r : -r) : v);
      const x = near(rand() * 1600);
      const y = near(rand() * 1200);
      const dx = rand() < 0.2 ? 0 : (rand() - 0.5) * 40;
      const dy = rand() < 0.2 ? 0 : (rand() - 0.5) * 40;
      const got = sweep(x, y, dx, dy, r);
      expect(got).toEqual(reference(x, y, dx, dy, r));
      if (got.blockedX || got.blockedY) blocked++;
    }
    expect(blocked).toBeGreaterThan(1000); // the stops were exercised, not just free moves
  });
});
