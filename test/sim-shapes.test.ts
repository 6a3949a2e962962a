/**
 * The sim's entities keep one hidden class each (V8's own check, enabled for this
 * file only), so the server's room tick reads their fields monomorphically. Spread
 * copies gave every player its own chain of hidden classes, and with 50 players a
 * room's tick went megamorphic. Its own file: hidden classes are per process, and
 * worlds stepped by other tests first can mask the difference.
 */
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { addPlayer, BTN_FIRE, createWorld, type Input, step, type World } from '../game/sim/index.ts';
import { DT30 } from './helpers/sim.ts';

v8.setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

describe('sim object shapes', () => {
  it('all players of a world share one hidden class, step after step (and so do all drones)', () => {
    let w: World = createWorld({ seed: 5, npcCount: 50 });
    for (let i = 0; i < 8; i++) w = addPlayer(w).world;
    const distinct = (objs: readonly object[]) => {
      const reps: object[] = [];
      for (const o of objs) if (!reps.some((r) => sameMap(r, o))) reps.push(o);
      return reps.length;
    };
    let worstPlayers = 0;
    let worstNpcs = 0;
    const inputs = new Map<number, Input>();
    for (let t = 0; t < 600; t++) {
      w.players.forEach((p, i) => {
        inputs.set(p.id, { buttons: (1 << ((t >> 5) + i) % 4) | BTN_FIRE, aim: (t * 500 + i * 9000) & 0xffff });
      });
      w = step(w, inputs, DT30);
      worstPlayers = Math.max(worstPlayers, distinct(w.players));
      worstNpcs = Math.max(worstNpcs, distinct(w.npcs));
    }
    expect(w.players.some((p) => p.deaths > 0) || w.npcs.some((n) => n.hp <= 0)).toBe(true); // shots landed
    expect(worstPlayers).toBe(1);
    expect(worstNpcs).toBe(1);
  });
});
