/**
 * The import rules: netcode/ is the library and imports nothing of the game, the server
 * or the tools; game/ never imports server/ or load-test/; the load test imports a game only
 * in that game's bot policy (load-test/arena.ts); the server's library code
 * never imports the browser client, the load test or the tests; and no import cycle
 * anywhere. The checker itself is tested on a small graph that breaks each rule.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, type ImportGraph, importGraph, importProblems, type ImportRule, specifiers } from './helpers/imports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const RULES: readonly ImportRule[] = [
  { from: 'netcode', to: ['game', 'server', 'load-test', 'test'], why: 'netcode/ is the library: it knows no game, server or tool' },
  { from: 'game', to: ['server', 'load-test', 'test'], why: 'a game uses netcode/, never the server or the tools' },
  { from: 'game/sim', to: ['game/client', 'game/bench', 'game/tools'], why: 'the simulation is pure and shared: nothing of the client or the tools' },
  {
    from: 'load-test', to: ['game'], except: ['load-test/arena.ts'],
    why: 'the load test plays a game through its bot policy (games.ts names them); arena.ts is the arena\'s, the one file that imports it',
  },
  {
    from: 'server', to: ['game/client', 'load-test', 'test'], except: ['server/bench', 'server/deploy'],
    why: 'the server never imports the browser client, the load test or the tests (its benchmarks and deploy tools may)',
  },
];

describe('import rules', () => {
  it('the tree keeps them: no import across the allowed direction, no cycle', () => {
    const graph = importGraph(ROOT, ['netcode', 'game', 'server', 'load-test']);
    expect(graph.size).toBeGreaterThan(100);
    expect(importProblems(graph, RULES)).toEqual([]);
  });

  it('names an import that crosses a rule, and every cycle', () => {
    const g: ImportGraph = new Map([
      ['netcode/client.ts', ['game/sim/state.ts', 'netcode/codec.ts']],
      ['netcode/codec.ts', []],
      ['game/sim/state.ts', []],
      ['server/member.ts', ['server/seats.ts']],
      ['server/seats.ts', ['server/member.ts']],
      ['server/bench/drain.ts', ['load-test/run.ts']],
      ['server/room.ts', ['load-test/run.ts']],
      ['game/client/x.ts', ['game/client/x.ts']],
    ]);
    expect(importProblems(g, RULES)).toEqual([
      'netcode/client.ts imports game/sim/state.ts: netcode/ is the library: it knows no game, server or tool',
      'server/room.ts imports load-test/run.ts: the server never imports the browser client, the load test or the tests (its benchmarks and deploy tools may)',
      'import cycle: game/client/x.ts → game/client/x.ts',
      'import cycle: server/member.ts → server/seats.ts → server/member.ts',
    ]);
  });

  it('finds a cycle through several files, in import order', () => {
    const g: ImportGraph = new Map([
      ['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts', 'd.ts']], ['d.ts', []],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('reads static, type-only, re-export, side-effect and dynamic imports, multi-line ones too', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      'import {\n  c,\n  d,\n} from "./cd.ts";',
      "export { e } from './e.ts';",
      "import './side.ts';",
      "const f = await import('./f.ts');",
      "import { x } from 'vitest';",
      "import { y } from 'node:fs';",
    ].join('\n');
    expect(specifiers(src)).toEqual(['./a.ts', '../b.ts', './cd.ts', './e.ts', './side.ts', './f.ts']);
  });
});
