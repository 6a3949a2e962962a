/**
 * Game rules on hand-placed worlds. The row y = 400 is open floor from x = 24 to
 * 1576, so a shooter at (200, 400) aiming 0 (+x) has a clear line down it.
 */
import { describe, expect, it } from 'vitest';
import {
  BTN_FIRE,
  boxHitsWall,
  createWorld,
  FIRE_INTERVAL,
  INTERMISSION,
  NPC_MAX_HP,
  NPC_RADIUS,
  NPC_RESPAWN_DELAY,
  PHASE_INTERMISSION,
  PHASE_PLAY,
  PLAYER_MAX_HP,
  PLAYER_RADIUS,
  RESPAWN_DELAY,
  ROUND_TIME,
  SCORE_KILL,
  SCORE_LIMIT,
  SCORE_NPC,
  SHOT_DAMAGE,
  SHOT_TTL,
  SPAWN_SHIELD,
  step,
  type World,
} from '../game/sim/index.ts';
import { byId, DT30, DT60, input, inputs, last, npc, onGrid, player, run, world } from './helpers/sim.ts';

const FIRE = inputs({ 1: input(BTN_FIRE, 0) });
const shooter = (over = {}) => player(1, 200, 400, over);

/** Ids of every tracer player `owner` created over these frames. */
const shotIds = (frames: World[], owner = 1): number[] => [
  ...new Set(frames.flatMap((f) => f.shots.filter((s) => s.owner === owner).map((s) => s.id))),
];

/** Steps with no input until `done` holds; returns how many steps that took and the world then. */
function stepsUntil(w: World, done: (w: World) => boolean, dt = DT30, limit = 1000): { n: number; w: World } {
  for (let n = 1; n <= limit; n++) {
    w = step(w, new Map(), dt);
    if (done(w)) return { n, w };
  }
  return { n: Infinity, w };
}

describe('shooting', () => {
  it('a player in the line of fire takes SHOT_DAMAGE and the tracer stops at its edge', () => {
    const w = step(world([shooter(), player(2, 600, 400)]), FIRE, DT30);
    expect(byId(w.players, 2).hp).toBe(PLAYER_MAX_HP - SHOT_DAMAGE);
    expect(w.shots).toEqual([
      {
        id: 3,
        owner: 1,
        x1: 200,
        y1: 400,
        x2: 600 - PLAYER_RADIUS,
        y2: 400,
        hit: 2,
        ttl: SHOT_TTL,
      },
    ]);
    expect(w.events).toEqual([]);
  });

  it('aim 16384 fires down the screen (+y)', () => {
    const w = step(world([shooter(), player(2, 200, 700)]), inputs({ 1: input(BTN_FIRE, 16384) }), DT30);
    expect(byId(w.players, 2).hp).toBe(PLAYER_MAX_HP - SHOT_DAMAGE);
  });

  it('walls block shots', () => {
    // The centre bar spans x 640..960 on y 580..620; the target stands behind it.
    const w = step(world([player(1, 400, 600), player(2, 1100, 600)]), FIRE, DT30);
    expect(byId(w.players, 2).hp).toBe(PLAYER_MAX_HP);
    expect(w.shots[0]).toMatchObject({ hit: 0, x2: 640, y2: 600 });
  });

  it.each([DT30, DT60])('holding fire shoots once per FIRE_INTERVAL (dt=%s)', (dt) => {
    const frames = run(world([shooter()]), Math.round(3 / dt), FIRE, dt);
    const firedAt = frames.flatMap((f, i) => (f.shots.some((s) => s.ttl === SHOT_TTL) ? [i] : []));
    expect(firedAt.length).toBe(3 / FIRE_INTERVAL);
    expect(shotIds(frames).length).toBe(3 / FIRE_INTERVAL);
    for (let i = 1; i < firedAt.length; i++) expect(firedAt[i]! - firedAt[i - 1]!).toBe(Math.round(FIRE_INTERVAL / dt));
  });

  it.each([DT30, DT60])('a tracer lives while less than SHOT_TTL has passed, then expires (dt=%s)', (dt) => {
    const fired = step(world([shooter()]), FIRE, dt);
    const after = run(fired, 20, new Map(), dt);
    const alive = [fired, ...after].map((f) => f.shots.length);
    const visibleFrames = Math.ceil(SHOT_TTL / dt - 1e-6);
    expect(alive.slice(0, visibleFrames).every((n) => n === 1)).toBe(true);
    expect(alive.slice(visibleFrames).every((n) => n === 0)).toBe(true);
  });

  it('a kill scores SCORE_KILL, counts kills and deaths, and emits a kill event', () => {
    const w = step(world([shooter(), player(2, 600, 400, { hp: SHOT_DAMAGE })]), FIRE, DT30);
    expect(byId(w.players, 2)).toMatchObject({ hp: 0, deaths: 1 });
    expect(byId(w.players, 2).respawn).toBeGreaterThan(0);
    expect(byId(w.players, 1)).toMatchObject({
      score: SCORE_KILL,
      kills: 1,
      deaths: 0,
    });
    expect(w.events).toEqual([{ kind: 'kill', killer: 1, victim: 2 }]);
  });

  it('the spawn shield absorbs hits until it runs out', () => {
    const frames = run(world([shooter(), player(2, 600, 400, { shield: 0.5 })]), 30, FIRE);
    expect(frames[0]!.shots[0]!.hit).toBe(2); // the shot is stopped, just harmless
    expect(byId(frames[14]!.players, 2).hp).toBe(PLAYER_MAX_HP); // shots at 0, 6, 12 absorbed
    expect(byId(last(frames).players, 2).hp).toBeLessThan(PLAYER_MAX_HP);
  });

  it('lag compensation: the shot is tested against where the shooter saw the target', () => {
    const seenOnLine = {
      rewind: new Map([[1, new Map([[2, { x: 600, y: 400 }]])]]),
    };
    const moved = world([shooter(), player(2, 600, 460)]);
    expect(byId(step(moved, FIRE, DT30, seenOnLine).players, 2).hp).toBe(PLAYER_MAX_HP - SHOT_DAMAGE);
    expect(byId(step(moved, FIRE, DT30).players, 2).hp).toBe(PLAYER_MAX_HP);
    // And the current position no longer counts when the shooter saw the target elsewhere.
    const seenOff = {
      rewind: new Map([[1, new Map([[2, { x: 600, y: 460 }]])]]),
    };
    expect(byId(step(world([shooter(), player(2, 600, 400)]), FIRE, DT30, seenOff).players, 2).hp).toBe(PLAYER_MAX_HP);
  });

  it('a tracer never points behind the shooter, even at a target overlapping it', () => {
    const w = step(world([shooter(), player(2, 205, 400)]), FIRE, DT30);
    expect(w.shots[0]!.x2).toBeGreaterThanOrEqual(200);
  });
});

describe('respawn', () => {
  it('a killed player returns after RESPAWN_DELAY at a free spot with full hp and shield', () => {
    const killed = step(world([shooter(), player(2, 600, 400, { hp: SHOT_DAMAGE })]), FIRE, DT30);
    expect(byId(killed.players, 2).hp).toBe(0);
    // Dead for exactly RESPAWN_DELAY, like SPAWN_SHIELD and INTERMISSION are counted.
    const back = stepsUntil(killed, (w) => byId(w.players, 2).hp > 0);
    expect(back.n * DT30).toBeCloseTo(RESPAWN_DELAY, 6);
    const p = byId(back.w.players, 2);
    expect(p).toMatchObject({
      hp: PLAYER_MAX_HP,
      shield: SPAWN_SHIELD,
      respawn: 0,
      deaths: 1,
    });
    expect(boxHitsWall(p.x, p.y, PLAYER_RADIUS)).toBe(false);
    expect(onGrid(p.x) && onGrid(p.y)).toBe(true);
  });
});

describe('drones', () => {
  it.each([0, 7, 50])('createWorld makes %i drones with distinct ids at legal spots', (count) => {
    const w = createWorld({ seed: 9, npcCount: count });
    expect(w.npcs.length).toBe(count);
    expect(new Set(w.npcs.map((n) => n.id)).size).toBe(count);
    for (const n of w.npcs) expect(boxHitsWall(n.x, n.y, NPC_RADIUS)).toBe(false);
  });

  it('drones wander', () => {
    const w0 = createWorld({ seed: 9, npcCount: 20 });
    const w = last(run(w0, 30, new Map()));
    expect(w.npcs.filter((n, i) => n.x === w0.npcs[i]?.x && n.y === w0.npcs[i]?.y)).toEqual([]);
  });

  it('a drone bounces off a wall instead of entering it (x and y axes)', () => {
    const right = run(world([], [npc(1, 1563, 400, { heading: 0 })]), 6, new Map());
    expect(right[0]!.npcs[0]).toMatchObject({
      x: 1576 - NPC_RADIUS,
      y: 400,
      heading: 32768,
    });
    expect(last(right).npcs[0]!.x).toBeLessThan(1576 - NPC_RADIUS);
    const down = run(world([], [npc(1, 400, 1163, { heading: 16384 })]), 6, new Map());
    expect(down[0]!.npcs[0]).toMatchObject({
      y: 1176 - NPC_RADIUS,
      heading: 49152,
    });
    expect(last(down).npcs[0]!.y).toBeLessThan(1176 - NPC_RADIUS);
  });

  it('two hits down a drone (+SCORE_NPC, npc_down) and it returns after NPC_RESPAWN_DELAY', () => {
    // The drone flies along the line of fire, so it stays in it.
    const frames = run(world([shooter()], [npc(2, 600, 400, { heading: 0 })]), 7, FIRE);
    expect(frames[0]!.npcs[0]!.hp).toBe(NPC_MAX_HP - SHOT_DAMAGE);
    const downed = frames[6]!;
    expect(downed.npcs[0]!.hp).toBe(0);
    expect(downed.events).toEqual([{ kind: 'npc_down', killer: 1, npc: 2 }]);
    expect(byId(downed.players, 1).score).toBe(SCORE_NPC);
    const { n } = stepsUntil(downed, (w) => w.npcs[0]!.hp > 0);
    expect(n * DT30).toBeCloseTo(NPC_RESPAWN_DELAY, 6);
  });
});

describe('rounds', () => {
  it('reaching SCORE_LIMIT ends the round; no shooting in the intermission; round_start resets scores', () => {
    const w0 = world([
      shooter({ score: SCORE_LIMIT - SCORE_KILL }),
      player(2, 600, 400, { hp: SHOT_DAMAGE, score: 3 }),
      player(3, 900, 400),
    ]);
    const ended = step(w0, FIRE, DT30);
    expect(ended.events).toEqual([
      { kind: 'kill', killer: 1, victim: 2 },
      { kind: 'round_end', winner: 1, round: 1 },
    ]);
    expect(ended.round).toEqual({
      number: 1,
      phase: PHASE_INTERMISSION,
      time: INTERMISSION,
      winner: 1,
    });

    // Player 2 is down, so any shot now would reach player 3 on the same line.
    const pause = Math.round(INTERMISSION / DT30);
    const frames = run(ended, pause, FIRE);
    for (const f of frames.slice(0, -1)) {
      expect(f.round.phase).toBe(PHASE_INTERMISSION);
      expect(byId(f.players, 3).hp).toBe(PLAYER_MAX_HP);
      expect(f.events.filter((e) => e.kind !== 'round_start')).toEqual([]);
    }
    expect(shotIds([ended, ...frames])).toEqual([ended.shots[0]!.id]);

    const started = last(frames);
    expect(started.events).toEqual([{ kind: 'round_start', round: 2 }]);
    expect(started.round).toEqual({
      number: 2,
      phase: PHASE_PLAY,
      time: ROUND_TIME,
      winner: 1,
    });
    for (const p of started.players)
      expect(p).toMatchObject({
        score: 0,
        kills: 0,
        deaths: 0,
        hp: PLAYER_MAX_HP,
      });
  });

  it('ROUND_TIME running out ends the round with the leader as winner', () => {
    const w0 = world([player(1, 200, 400, { score: 3 }), player(2, 600, 400, { score: 7 })]);
    const frames = run(w0, Math.round(ROUND_TIME / DT30), new Map());
    const ends = frames.flatMap((f, i) => f.events.filter((e) => e.kind === 'round_end').map((e) => ({ i, e })));
    expect(ends).toEqual([{ i: frames.length - 1, e: { kind: 'round_end', winner: 2, round: 1 } }]);
    expect(last(frames).round.phase).toBe(PHASE_INTERMISSION);
  });
});
