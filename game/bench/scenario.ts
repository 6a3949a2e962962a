/**
 * Realistic arena traffic for the benchmark: the real sim (createWorld, addPlayer,
 * step) at 30 Hz with scripted players. Each player holds a direction for 0.5-2 s
 * (diagonals included), sweeps its aim and fires about a quarter of the time;
 * drones wander on their own. Seeded, so every run measures the same frames.
 */
import {
  addPlayer,
  BTN_DOWN,
  BTN_FIRE,
  BTN_LEFT,
  BTN_RIGHT,
  BTN_UP,
  createWorld,
  type Input,
  nextFloat,
  type Rng,
  step,
  type World,
} from '../sim/index.ts';

export const TICK_RATE = 30; // Hz
export const DT = 1 / TICK_RATE; // s

const DIRECTIONS = [
  BTN_UP,
  BTN_DOWN,
  BTN_LEFT,
  BTN_RIGHT,
  BTN_UP | BTN_LEFT,
  BTN_UP | BTN_RIGHT,
  BTN_DOWN | BTN_LEFT,
  BTN_DOWN | BTN_RIGHT,
];

interface Script {
  id: number;
  buttons: number;
  aim: number;
  aimSpeed: number; // aim units per tick
  holdTicks: number;
}

/** A world plus the scripted players that drive it. */
export class Scenario {
  world: World;
  private readonly scripts: Script[] = [];
  private readonly rng: Rng;
  private readonly inputs = new Map<number, Input>();

  constructor(opts: { seed: number; players: number; npcs: number }) {
    this.rng = { state: opts.seed ^ 0x9e3779b9 };
    let world = createWorld({ seed: opts.seed, npcCount: opts.npcs });
    for (let i = 0; i < opts.players; i++) {
      const r = addPlayer(world);
      world = r.world;
      this.scripts.push({ id: r.id, buttons: 0, aim: Math.floor(nextFloat(this.rng) * 65536), aimSpeed: 0, holdTicks: 0 });
    }
    this.world = world;
  }

  /** Advances one tick with fresh scripted inputs; returns the new world. */
  step(): World {
    for (const s of this.scripts) {
      if (--s.holdTicks <= 0) {
        s.holdTicks = 15 + Math.floor(nextFloat(this.rng) * 45);
        s.buttons = DIRECTIONS[Math.floor(nextFloat(this.rng) * DIRECTIONS.length)];
        s.aimSpeed = Math.floor((nextFloat(this.rng) - 0.5) * 1200);
        if (nextFloat(this.rng) < 0.25) s.buttons |= BTN_FIRE;
      }
      s.aim = (s.aim + s.aimSpeed) & 0xffff;
      this.inputs.set(s.id, { buttons: s.buttons, aim: s.aim });
    }
    this.world = step(this.world, this.inputs, DT);
    return this.world;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** High-resolution timestamp in µs (bench only: netcode/ proper never reads clocks). */
export const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;
