/**
 * The source tree's import graph and the rules it must keep (test/imports.test.ts):
 * which folder may import which, and no cycles. Reads files as text; relative
 * specifiers only (npm packages and node: modules are outside the rules).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** File (relative to the root, `/`-separated) → the files it imports. */
export type ImportGraph = Map<string, string[]>;

/** `from` may not import `to` (path prefixes); `except` exempts importers under these prefixes. */
export interface ImportRule {
  from: string;
  to: string[];
  except?: string[];
  why: string;
}

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative specifiers a source text imports (static, re-exports, side effects, dynamic with a literal). */
export function specifiers(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(SPECIFIER)) {
    const s = m[1] ?? m[2] ?? m[3];
    if (s?.startsWith('.')) out.push(s);
  }
  return out;
}

/** The graph of every .ts file under `dirs` of `root` (node_modules and dot folders skipped). */
export function importGraph(root: string, dirs: string[]): ImportGraph {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      if (f === 'node_modules' || f.startsWith('.')) continue;
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.ts') && !f.endsWith('.d.ts')) files.push(p);
    }
  };
  for (const d of dirs) walk(join(root, d));
  const rel = (p: string) => relative(root, p).split('\\').join('/');
  const graph: ImportGraph = new Map();
  for (const f of files) graph.set(rel(f), specifiers(readFileSync(f, 'utf8')).map((s) => rel(resolve(dirname(f), s))));
  return graph;
}

/** Every import that breaks a rule, and every cycle (as its files in order), in words. */
export function importProblems(graph: ImportGraph, rules: readonly ImportRule[]): string[] {
  const out: string[] = [];
  const under = (f: string, prefixes: readonly string[]) => prefixes.some((p) => f === p || f.startsWith(p.endsWith('/') ? p : `${p}/`));
  for (const [from, deps] of graph) {
    for (const to of deps) {
      for (const r of rules) {
        if (under(from, [r.from]) && !under(from, r.except ?? []) && under(to, r.to)) out.push(`${from} imports ${to}: ${r.why}`);
      }
    }
  }
  for (const c of cycles(graph)) out.push(`import cycle: ${[...c, c[0]].join(' → ')}`);
  return out;
}

/** The graph's cycles: each strongly connected set of two or more files (or a file importing itself), in an order that walks it. */
export function cycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const set: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      set.push(w);
    } while (w !== v);
    if (set.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(walkOf(set, graph));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The files of one strongly connected set in import order from its first (sorted) file: a readable loop. */
function walkOf(set: string[], graph: ImportGraph): string[] {
  const inSet = new Set(set);
  const start = [...set].sort()[0];
  const path = [start];
  const seen = new Set(path);
  for (let at = start; ;) {
    const nextFile = (graph.get(at) ?? []).find((w) => inSet.has(w) && !seen.has(w));
    if (!nextFile) return path;
    path.push(nextFile);
    seen.add(nextFile);
    at = nextFile;
  }
}
