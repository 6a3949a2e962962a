/**
 * `npm run bench:join -- --url http://127.0.0.1:8080 [--joins 200]`: what a REDIRECT costs
 * a player joining through a cluster's front. Against a running cluster (nginx in front
 * of two instances or more, `npm run cluster`), it times `joins` joins of each kind, from
 * the socket's open request to the WELCOME:
 *
 *   direct      to the room owner's own endpoint (`<owner ws>?room=…&token=…`, i.e. /i/<owner>/ws)
 *   redirected  to another instance's (/i/<other>/ws): it asks the directory (Redis), answers
 *               REDIRECT, and the client connects to the owner at once
 *
 * Both kinds go through nginx, into rooms a warm-up round has opened (so neither pays for
 * creating a room), with sessions that hold a seat there after the first round; they
 * alternate in order. What differs is the redirect alone. The target: ≤ 20 ms p99 more
 * than direct, on loopback (exit 1 when missed).
 *
 * The client is the bots' (wire.ts, NetClient, the redirect rule of redirect.ts). One join
 * at a time; loopback only; at most 2000 joins, each given 5 s. The sessions' seats stay
 * held for the resume grace (30 s) after the run, and the rooms then idle out.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NetClient } from '../netcode/client.ts';
import { policyFor } from './games.ts';
import { type Endpoint, endpoint, httpCall } from './endpoint.ts';
import { listInstances } from './instances.ts';
import { checkHttpLoopback } from './options.ts';
import { joinUrl, MAX_REDIRECTS, redirectTarget } from './redirect.ts';
import type { Quantiles } from './report.ts';
import { Wire } from './wire.ts';

const MAX_JOINS = 2000;
const JOIN_TIMEOUT_MS = 5000;
const ROOMS = 4; // rooms joined in turn; 2 sessions each (one per kind), so 16-seat rooms never fill
export const TARGET_MS = 20; // p99 a redirect may add

export interface JoinBenchResult {
  joins: number;
  instances: string[];
  direct_ms: Quantiles;
  redirected_ms: Quantiles;
  /** redirected p99 − direct p99. */
  redirect_cost_p99_ms: number;
  /** Joins that did not go as their kind says (a direct one redirected, a redirected one not): owners moved. */
  unexpected: number;
}

/** One join, timed from the open request to WELCOME; REDIRECTs followed. Closes the socket after. */
function timedJoin(url: string, room: string, token: string): Promise<{ ms: number; redirects: number }> {
  return new Promise((resolve, reject) => {
    const net = new NetClient(policyFor('arena').schema, { frames: 4 });
    let redirects = 0;
    let ws: Wire | null = null;
    const timer = setTimeout(() => finish(new Error(`no WELCOME within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
    const finish = (err: Error | null, ms = 0) => {
      clearTimeout(timer);
      const w = ws;
      ws = null;
      w?.close(1000, 'join bench');
      if (err) reject(err);
      else resolve({ ms, redirects });
    };
    const t0 = performance.now();
    const open = (endpoint: string) => {
      const w: Wire = new Wire(joinUrl(endpoint, room, token), {
        onOpen: () => w.send(net.hello()),
        onMessage: (data) => {
          if (w !== ws) return;
          const ev = net.receive(data, performance.now());
          if (ev.kind === 'welcome') finish(null, performance.now() - t0);
          else if (ev.kind === 'error') finish(new Error(`ERROR ${ev.code}: ${ev.reason}`));
          else if (ev.kind === 'redirect') {
            ws = null;
            w.close(1000, 'redirected');
            try {
              if (++redirects > MAX_REDIRECTS) throw new Error(`over ${MAX_REDIRECTS} REDIRECTs`);
              open(redirectTarget(ev.url));
            } catch (e) {
              finish(e as Error);
            }
          }
        },
        onError: (e) => { if (w === ws) finish(e); },
        onClose: (code, reason) => { if (w === ws) finish(new Error(`closed before WELCOME: ${code} ${reason}`)); },
      });
      ws = w;
    };
    open(url);
  });
}

/** Nearest-rank quantiles of a few hundred exact values, ms. */
function quantiles(values: number[]): Quantiles {
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => v[Math.max(0, Math.ceil(p * v.length) - 1)] ?? 0;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r3(q(0.5)), p95: r3(q(0.95)), p99: r3(q(0.99)), max: r3(v.at(-1) ?? 0) };
}

async function post<T>(ep: Endpoint, path: string, body: string): Promise<T> {
  const res = await httpCall(ep, path, { body });
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${res.text.slice(0, 120)}`);
  return JSON.parse(res.text) as T;
}

/** `url`: the cluster's front (http://127.0.0.1:PORT). */
export async function runJoinBench(opts: { url: string; joins: number }, log: (line: string) => void = () => {}): Promise<JoinBenchResult> {
  const front = checkHttpLoopback(opts.url, '--url');
  if (!Number.isInteger(opts.joins) || opts.joins < 1 || opts.joins > MAX_JOINS) throw new Error(`--joins must be an integer in [1, ${MAX_JOINS}]`);
  const ep = endpoint(`${front.protocol === 'https:' ? 'wss' : 'ws'}://${front.host}/ws`);
  const instances = await listInstances(ep);
  if (instances.length < 2) throw new Error(`${opts.url} lists ${instances.length} instance(s): a redirect needs a cluster of 2 or more`);
  const rooms = await Promise.all(Array.from({ length: ROOMS }, () =>
    post<{ code: string; instance: string; ws: string }>(ep, '/api/rooms', '')));
  const tokens = await Promise.all(Array.from({ length: 2 * ROOMS }, (_, i) =>
    post<{ token: string }>(ep, '/api/session', JSON.stringify({ name: `joinbench${i}` })).then((t) => t.token)));
  const plan = rooms.map((r, k) => {
    const others = instances.filter((i) => i.id !== r.instance);
    if (others.length === instances.length) throw new Error(`room ${r.code} was placed on ${r.instance}, which /api/instances does not list`);
    return { code: r.code, owner: redirectTarget(r.ws), other: redirectTarget(others[k % others.length].ws), direct: tokens[2 * k], via: tokens[2 * k + 1] };
  });
  log(`join-bench: ${opts.joins} joins of each kind through ${opts.url}; rooms ${rooms.map((r) => `${r.code}@${r.instance}`).join(' ')}`);
  const direct: number[] = [];
  const redirected: number[] = [];
  let unexpected = 0;
  // Round −1 is the warm-up: it opens the rooms and seats both sessions; it is not timed.
  for (let round = -1; round < opts.joins; round++) {
    const p = plan[(round + ROOMS) % ROOMS];
    const one = async (kind: 'direct' | 'redirected') => {
      const r = kind === 'direct' ? await timedJoin(p.owner, p.code, p.direct) : await timedJoin(p.other, p.code, p.via);
      if (round < 0) return;
      if (r.redirects !== (kind === 'direct' ? 0 : 1)) unexpected++;
      (kind === 'direct' ? direct : redirected).push(r.ms);
    };
    // Alternate which goes first, so neither always follows the other's close.
    if (round % 2 === 0) {
      await one('direct');
      await one('redirected');
    } else {
      await one('redirected');
      await one('direct');
    }
  }
  const d = quantiles(direct);
  const v = quantiles(redirected);
  return {
    joins: opts.joins, instances: instances.map((i) => i.id), direct_ms: d, redirected_ms: v,
    redirect_cost_p99_ms: Math.round((v.p99 - d.p99) * 1000) / 1000, unexpected,
  };
}

const row = (name: string, q: Quantiles) => `${name.padEnd(10)}  p50 ${q.p50}  p95 ${q.p95}  p99 ${q.p99}  max ${q.max} ms`;

export function formatJoinBench(r: JoinBenchResult): string {
  const cost = r.redirect_cost_p99_ms;
  return [
    row('direct', r.direct_ms),
    row('redirected', r.redirected_ms),
    `redirect costs ${cost >= 0 ? '+' : ''}${cost} ms p99 (target ≤ ${TARGET_MS} ms)`
      + (r.unexpected ? `; ${r.unexpected} join(s) did not go as planned (a room's owner moved?)` : ''),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const usage = 'usage: npm run bench:join -- --url http://127.0.0.1:8080 [--joins 200]';
  let opts: { url: string; joins: number };
  try {
    const { values: v } = parseArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:8080' }, joins: { type: 'string', default: '200' }, help: { type: 'boolean', short: 'h' } } });
    if (v.help) throw new Error(usage);
    opts = { url: v.url, joins: Number(v.joins) };
  } catch (err) {
    console.error((err as Error).message === usage ? usage : `bench:join: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  runJoinBench(opts, (l) => console.error(l)).then((r) => {
    console.log(formatJoinBench(r));
    process.exit(r.redirect_cost_p99_ms > TARGET_MS ? 1 : 0);
  }, (err: Error) => {
    console.error(`bench:join: ${err.message}`);
    process.exit(2);
  });
}
