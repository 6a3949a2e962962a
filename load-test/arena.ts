/**
 * The arena shooter's bot policy (policy.ts): its entity table, and what a bot presses
 * each tick. A Brain turns the bot's replica (the state it decoded, exactly what a
 * browser would draw) into an input, as a player would: buttons and a 16-bit aim,
 * never positions. Seeded: the same seed gives the same choices for the same snapshots.
 * The load test's one file that imports the game.
 *
 *   move    random walk: one of 8 directions, held 0.3–1.5 s, steering back
 *           toward the middle near the border so the bot keeps moving
 *   combat  the walk, aiming at the nearest living other player and firing
 *   churn   the walk (the bot also drops its socket; see bot.ts)
 *   chat    the walk (the bot also chats; see bot.ts)
 */
import { ARENA_H, ARENA_W, BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP, SHOT_RANGE } from '../game/sim/constants.ts';
import { radiansToAim } from '../game/sim/movement.ts';
import { ARENA_SCHEMA, T_PLAYER } from '../game/sim/netschema.ts';
import { type Frame, findIndex as findEntity } from '../netcode/frame.ts';
import type { InputIntent as Input } from '../netcode/protocol.ts';
import type { BotPolicy, Brain, Scenario } from './policy.ts';

/** Buttons of the 8 directions, by index: 0 = +x (aim 0), 2 = +y (down), 4 = −x, 6 = −y. */
const DIR_BUTTONS = [
  BTN_RIGHT, BTN_DOWN | BTN_RIGHT, BTN_DOWN, BTN_DOWN | BTN_LEFT, BTN_LEFT, BTN_UP | BTN_LEFT, BTN_UP, BTN_UP | BTN_RIGHT,
];
const MARGIN = 150; // u from the border where a walker turns back inside

// Reading our own and others' positions straight from the quantized frame (no objects per tick).
const PLAYER = ARENA_SCHEMA.types[T_PLAYER];
const STRIDE = ARENA_SCHEMA.stride;
const X = PLAYER.names.indexOf('x');
const Y = PLAYER.names.indexOf('y');
const HP = PLAYER.names.indexOf('hp');
const toX = (q: number): number => q / PLAYER.scale[X] + PLAYER.min[X];
const toY = (q: number): number => q / PLAYER.scale[Y] + PLAYER.min[Y];

class Walker implements Brain {
  private dir = 0;
  private left = 0; // ticks before the next direction change
  protected readonly input: Input = { buttons: 0, aim: 0 };

  constructor(protected readonly random: () => number) {
    this.dir = Math.floor(random() * 8);
  }

  next(frame: Frame | undefined, self: number, tickRate: number): Input {
    if (--this.left <= 0) {
      this.left = Math.round(tickRate * (0.3 + 1.2 * this.random()));
      this.dir = this.steer(frame, self) ?? Math.floor(this.random() * 8);
    }
    this.input.buttons = DIR_BUTTONS[this.dir];
    this.input.aim = (this.dir * 8192) & 0xffff;
    return this.input;
  }

  /** A direction pointing back inside when near the border, else undefined. */
  private steer(frame: Frame | undefined, self: number): number | undefined {
    const i = frame ? findEntity(frame, self) : -1;
    if (!frame || i < 0) return undefined;
    const x = toX(frame.values[i * STRIDE + X]);
    const y = toY(frame.values[i * STRIDE + Y]);
    const dx = x < MARGIN ? 1 : x > ARENA_W - MARGIN ? -1 : 0;
    const dy = y < MARGIN ? 1 : y > ARENA_H - MARGIN ? -1 : 0;
    if (dx === 0 && dy === 0) return undefined;
    return Math.round(((Math.atan2(dy, dx) / (Math.PI * 2)) * 8 + 8)) % 8;
  }
}

/** Walks, aims at the nearest living other player (re-picked every 3 ticks) and fires when in range. */
class Fighter extends Walker {
  private aim = 0;
  private inRange = false;
  private n = 0;

  override next(frame: Frame | undefined, self: number, tickRate: number): Input {
    super.next(frame, self, tickRate);
    if (frame && this.n++ % 3 === 0) this.target(frame, self);
    this.input.aim = this.aim;
    if (this.inRange) this.input.buttons |= BTN_FIRE;
    return this.input;
  }

  private target(frame: Frame, self: number): void {
    const me = findEntity(frame, self);
    this.inRange = false;
    if (me < 0) return;
    const v = frame.values;
    const mx = toX(v[me * STRIDE + X]);
    const my = toY(v[me * STRIDE + Y]);
    let best = SHOT_RANGE * SHOT_RANGE;
    for (let i = 0; i < frame.count; i++) {
      if (i === me || frame.types[i] !== T_PLAYER || v[i * STRIDE + HP] <= 0) continue;
      const dx = toX(v[i * STRIDE + X]) - mx;
      const dy = toY(v[i * STRIDE + Y]) - my;
      const d2 = dx * dx + dy * dy;
      if (d2 < best) {
        best = d2;
        this.aim = radiansToAim(Math.atan2(dy, dx));
        this.inRange = true;
      }
    }
  }
}

export const ARENA_POLICY: BotPolicy = {
  game: 'arena',
  schema: ARENA_SCHEMA,
  brain: (scenario: Scenario, random: () => number): Brain => (scenario === 'combat' ? new Fighter(random) : new Walker(random)),
};
