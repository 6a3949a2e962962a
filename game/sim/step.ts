import {
  BTN_FIRE, FIRE_INTERVAL, INTERMISSION, NPC_MAX_HP, NPC_RADIUS, NPC_RESPAWN_DELAY, NPC_SPEED, NPC_TURN_CHANCE,
  PLAYER_MAX_HP, PLAYER_RADIUS, RESPAWN_DELAY, ROUND_TIME, SCORE_KILL, SCORE_LIMIT, SCORE_NPC, SHOT_DAMAGE,
  SHOT_RANGE, SHOT_TTL, SPAWN_SHIELD,
} from './constants.ts';
import { rayCircle, rayWall } from './hitscan.ts';
import { aimToRadians, movePlayer, sweep } from './movement.ts';
import { nextFloat, type Rng } from './rng.ts';
import {
  copyNpc, copyPlayer, copyRound, copyShot, type GameEvent, type Input, type Npc, PHASE_INTERMISSION, PHASE_PLAY,
  type Player, type Shot, type World, randomSpot, snap,
} from './state.ts';

/** Where the shooter saw the other players: lag compensation, supplied by the authority. */
export type RewoundPositions = ReadonlyMap<number, { x: number; y: number }>;

export interface StepOptions {
  /**
   * Per shooter id: the other players' positions as that shooter saw them. Asked
   * only when a shot is actually fired (a Map works; the server answers lazily).
   */
  rewind?: { get(shooter: number): RewoundPositions | undefined };
}

const EPS = 1e-9; // s; float slack for timers counted down by dt

/**
 * Advances the world by one fixed step.
 *
 * Contract: pure. The result depends only on the arguments and the static map:
 * no clock, no Math.random (the seeded RNG lives in `world.rng`), no I/O, and the
 * argument objects are not mutated. Same world + same inputs + same dt gives an
 * identical world, on the server, in a client replay or in a bot.
 *
 * `inputs` maps a player id to its input for this step, or to several inputs
 * (each one dt of movement, in order) when the authority applies a backlog; a
 * player with none stands still and keeps its aim.
 *
 * Order within a step: timers, movement (players by id, then drones), shots by
 * player id (damage lands at once), respawns, round rules.
 */
export function step(world: World, inputs: ReadonlyMap<number, Input | readonly Input[]>, dt: number, opts: StepOptions = {}): World {
  const rng: Rng = { state: world.rng };
  let nextId = world.nextId;
  const events: GameEvent[] = [];
  const round = copyRound(world.round);
  const playing = round.phase === PHASE_PLAY;

  const players: Player[] = world.players.map(copyPlayer);
  const npcs: Npc[] = world.npcs.map(copyNpc);
  const shots: Shot[] = [];
  for (const s of world.shots) if (s.ttl - dt > EPS) shots.push(copyShot(s, s.ttl - dt));

  const firing = new Map<number, number>(); // player id → aim of its first input holding fire
  for (const p of players) {
    p.cooldown = Math.max(0, p.cooldown - dt);
    p.shield = Math.max(0, p.shield - dt);
    if (p.hp <= 0) {
      p.respawn -= dt;
      continue;
    }
    // Each input is one dt of movement: a player catching up after a stall sends several.
    for (const input of inputList(inputs.get(p.id))) {
      p.aim = input.aim;
      const moved = movePlayer(p.x, p.y, input.buttons, dt);
      p.x = moved.x;
      p.y = moved.y;
      if (input.buttons & BTN_FIRE && !firing.has(p.id)) firing.set(p.id, input.aim);
    }
  }

  for (const n of npcs) {
    if (n.hp <= 0) {
      n.respawn -= dt;
      continue;
    }
    if (nextFloat(rng) < NPC_TURN_CHANCE) n.heading = Math.floor(nextFloat(rng) * 65536);
    const a = aimToRadians(n.heading);
    const r = sweep(n.x, n.y, Math.cos(a) * NPC_SPEED * dt, Math.sin(a) * NPC_SPEED * dt, NPC_RADIUS);
    n.x = r.x;
    n.y = r.y;
    // Bounce: mirror the heading on the blocked axis (binary angles: x-mirror is 32768 - h, y-mirror is -h).
    if (r.blockedX) n.heading = (32768 - n.heading) & 0xffff;
    if (r.blockedY) n.heading = -n.heading & 0xffff;
  }

  if (playing) {
    for (const p of players) {
      const aim = firing.get(p.id);
      if (p.hp <= 0 || aim === undefined || p.cooldown > EPS) continue;
      p.cooldown = FIRE_INTERVAL;
      shots.push(fire(p, aim, players, npcs, opts.rewind?.get(p.id), nextId++, events));
    }
  }

  // Respawn timers were counted down with the other timers, before any damage of this step.
  for (const p of players) {
    if (p.hp > 0 || p.respawn > EPS) continue;
    const spot = randomSpot(rng, PLAYER_RADIUS);
    Object.assign(p, { x: spot.x, y: spot.y, hp: PLAYER_MAX_HP, respawn: 0, shield: SPAWN_SHIELD, cooldown: 0 });
  }
  for (const n of npcs) {
    if (n.hp > 0 || n.respawn > EPS) continue;
    const spot = randomSpot(rng, NPC_RADIUS);
    Object.assign(n, { x: spot.x, y: spot.y, hp: NPC_MAX_HP, respawn: 0, heading: Math.floor(nextFloat(rng) * 65536) });
  }

  round.time -= dt;
  if (playing) {
    const leader = leaderOf(players);
    if (round.time <= EPS || (leader && leader.score >= SCORE_LIMIT)) {
      Object.assign(round, { phase: PHASE_INTERMISSION, time: INTERMISSION, winner: leader?.id ?? 0 });
      events.push({ kind: 'round_end', winner: round.winner, round: round.number });
    }
  } else if (round.time <= EPS) {
    Object.assign(round, { phase: PHASE_PLAY, time: ROUND_TIME, number: round.number + 1 });
    for (const p of players) {
      const spot = randomSpot(rng, PLAYER_RADIUS);
      Object.assign(p, { x: spot.x, y: spot.y, hp: PLAYER_MAX_HP, respawn: 0, shield: SPAWN_SHIELD, score: 0, kills: 0, deaths: 0 });
    }
    events.push({ kind: 'round_start', round: round.number });
  }

  return { tick: world.tick + 1, rng: rng.state, nextId, players, npcs, shots, round, events };
}

const NONE: readonly Input[] = [];
const inputList = (given: Input | readonly Input[] | undefined): readonly Input[] =>
  given === undefined ? NONE : Array.isArray(given) ? given : [given as Input];

/** Highest score, lowest id on ties; undefined with no players. */
export function leaderOf(players: readonly Player[]): Player | undefined {
  let best: Player | undefined;
  for (const p of players) if (!best || p.score > best.score) best = p;
  return best;
}

/** Hitscan from p along `aim`; applies damage and scoring in place; returns the tracer. */
function fire(p: Player, aim: number, players: Player[], npcs: Npc[], seen: RewoundPositions | undefined, id: number, events: GameEvent[]): Shot {
  const a = aimToRadians(aim);
  const dx = Math.cos(a);
  const dy = Math.sin(a);
  let best = Math.min(SHOT_RANGE, rayWall(p.x, p.y, dx, dy));
  let target: Player | Npc | undefined;
  for (const o of players) {
    if (o.id === p.id || o.hp <= 0) continue;
    const at = seen?.get(o.id) ?? o;
    const t = rayCircle(p.x, p.y, dx, dy, at.x, at.y, PLAYER_RADIUS);
    if (t < best) { best = t; target = o; }
  }
  let npcHit = false;
  for (const n of npcs) {
    if (n.hp <= 0) continue;
    const t = rayCircle(p.x, p.y, dx, dy, n.x, n.y, NPC_RADIUS);
    if (t < best) { best = t; target = n; npcHit = true; }
  }
  if (target && npcHit) {
    target.hp -= SHOT_DAMAGE;
    if (target.hp <= 0) {
      target.hp = 0;
      (target as Npc).respawn = NPC_RESPAWN_DELAY;
      p.score += SCORE_NPC;
      events.push({ kind: 'npc_down', killer: p.id, npc: target.id });
    }
  } else if (target) {
    const victim = target as Player;
    if (victim.shield <= EPS) {
      victim.hp -= SHOT_DAMAGE;
      if (victim.hp <= 0) {
        victim.hp = 0;
        victim.respawn = RESPAWN_DELAY;
        victim.deaths += 1;
        p.kills += 1;
        p.score += SCORE_KILL;
        events.push({ kind: 'kill', killer: p.id, victim: victim.id });
      }
    }
  }
  return {
    id, owner: p.id, x1: p.x, y1: p.y, x2: snap(p.x + dx * best), y2: snap(p.y + dy * best), hit: target?.id ?? 0, ttl: SHOT_TTL,
  };
}
