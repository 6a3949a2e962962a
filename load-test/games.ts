/** The games the load test can play (`--game`), by name: the one place it picks a game's bot policy. */
import { ARENA_POLICY } from './arena.ts';
import type { BotPolicy } from './policy.ts';

export const GAMES: Readonly<Record<string, BotPolicy>> = { arena: ARENA_POLICY };
export const GAME_NAMES = Object.keys(GAMES);

/** The policy of `game`; throws naming the known ones. */
export function policyFor(game: string): BotPolicy {
  const p = GAMES[game];
  if (!p) throw new Error(`--game must be one of ${GAME_NAMES.join('|')}, got ${game}`);
  return p;
}
