/**
 * What the load test needs of a game to play it, the per-game bot policy: the entity
 * schema its clients decode snapshots with, and a Brain for each scenario that turns the
 * decoded state into an input, as a player would (buttons and an aim, never positions).
 * Nothing here knows a game: arena.ts is the arena shooter's policy, games.ts names them.
 */
import type { Frame } from '../netcode/frame.ts';
import type { InputIntent } from '../netcode/protocol.ts';
import type { Schema } from '../netcode/schema.ts';

/** What bots do (`--scenario`): how a policy's brains move and fight is the game's; churn and chat are the bot's. */
export const SCENARIOS = ['move', 'combat', 'churn', 'chat'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Brain {
  /** The input for the next tick; `frame` is the newest applied snapshot (if any), `self` our entity id. */
  next(frame: Frame | undefined, self: number, tickRate: number): InputIntent;
}

export interface BotPolicy {
  /** The game's name (`--game`). */
  readonly game: string;
  /** Its entity table, as the server sends it. */
  readonly schema: Schema;
  /** A bot's brain for `scenario`, drawing from the bot's seeded `random`. */
  brain(scenario: Scenario, random: () => number): Brain;
}
