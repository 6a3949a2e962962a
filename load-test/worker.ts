/**
 * A worker thread running many bots on one event loop. One timer drives them
 * all: it wakes on a fixed step (1/8 of the tick period) scheduled from its start
 * time, so lateness never drifts it, and calls every bot's `update(now)`; each bot
 * keeps its own input accumulator. On `flush` (the main thread asks once a second)
 * the worker posts its cumulative counters and the latencies recorded since its last post.
 *
 *   main → worker   { type: 'add', bots: [{ index, room }] } | { type: 'watch', spectators: [{ index, room }] }
 *                   | { type: 'flush', id } | { type: 'stop' }
 *   worker → main   WorkerStats
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Bot, type BotContext, type Deferrable } from './bot.ts';
import { type Counters, zeroCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import { policyFor } from './games.ts';
import { Histogram } from './histogram.ts';
import type { Scenario } from './policy.ts';
import { Spectator } from './spectator.ts';
import type { BotSocket, Transport } from './transport.ts';

export interface WorkerConfig {
  endpoint: Endpoint;
  transport: Transport;
  /** The game (games.ts): a policy is code, so the worker looks it up by name. */
  game: string;
  scenario: Scenario;
  seed: number;
  churnPerS: number;
  chatEveryMs: number;
}

export type ToWorker =
  | { type: 'add'; bots: { index: number; room: string }[] }
  | { type: 'watch'; spectators: { index: number; room: string }[] }
  | { type: 'flush'; id: number }
  | { type: 'stop' };

export interface WorkerStats {
  type: 'stats';
  flushId?: number;
  final?: boolean;
  counters: Counters;
  rtt: { counts: Uint32Array; maxMs: number };
  interval: { counts: Uint32Array; maxMs: number };
  movePause: { counts: Uint32Array; maxMs: number };
  moveResume: { counts: Uint32Array; maxMs: number };
  notes: [string, number][];
  /** Live bots by the instance whose WELCOME they hold (only non-empty ids: a standalone server's is ''). */
  instances: [string, number][];
}

const MAX_NOTES = 20;

function main(port: NonNullable<typeof parentPort>, cfg: WorkerConfig): void {
  const bots: Bot[] = [];
  const spectators: Spectator[] = [];
  const notes = new Map<string, number>();
  const ctx: BotContext = {
    endpoint: cfg.endpoint,
    transport: cfg.transport,
    policy: policyFor(cfg.game),
    scenario: cfg.scenario,
    churnPerS: cfg.scenario === 'churn' ? cfg.churnPerS : 0,
    chatEveryMs: cfg.scenario === 'chat' ? cfg.chatEveryMs : 0,
    now: () => performance.now(),
    counters: zeroCounters(),
    rtt: new Histogram(),
    interval: new Histogram(),
    movePause: new Histogram(),
    moveResume: new Histogram(),
    note: (error) => {
      const key = error.replace(/^snapshot \d+/, 'snapshot N'); // one kind, whatever the tick
      if (notes.has(key) || notes.size < MAX_NOTES) notes.set(key, (notes.get(key) ?? 0) + 1);
    },
    defer: () => {},
  };

  // Messages other than PONG wait here until the poll phase has read every socket that is
  // ready; then they are decoded in slices of ~1 ms so new arrivals get timed in between.
  const inbox: { bot: Deferrable; from: BotSocket; data: Buffer; at: number }[] = [];
  let head = 0;
  let draining = false;
  const drain = () => {
    const until = performance.now() + 1;
    while (head < inbox.length) {
      const m = inbox[head];
      inbox[head++] = undefined as never;
      m.bot.deferred(m.from, m.data, m.at);
      if ((head & 15) === 0 && performance.now() > until) break;
    }
    if (head < inbox.length) {
      if (head > 1024) {
        inbox.splice(0, head);
        head = 0;
      }
      return void setImmediate(drain);
    }
    inbox.length = 0;
    head = 0;
    draining = false;
  };
  ctx.defer = (bot, from, data, at) => {
    inbox.push({ bot, from, data, at });
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  };

  const post = (extra: Partial<WorkerStats> = {}) => {
    const counters = { ...ctx.counters };
    const instances = new Map<string, number>();
    for (const b of bots) {
      if (b.isLive && b.instance !== '') instances.set(b.instance, (instances.get(b.instance) ?? 0) + 1);
      const s = b.net.stats;
      counters.snapshots += s.snapshots;
      counters.desyncs += s.desyncs;
      counters.decodeErrors += s.decodeErrors;
      counters.bytesIn += s.bytesIn;
      counters.bytesOut += s.bytesOut;
    }
    for (const v of spectators) {
      const s = v.net.stats;
      counters.specSnapshots += s.snapshots;
      counters.specDesyncs += s.desyncs;
      counters.specDecodeErrors += s.decodeErrors;
    }
    const rtt = ctx.rtt.take();
    const interval = ctx.interval.take();
    const movePause = ctx.movePause.take();
    const moveResume = ctx.moveResume.take();
    const msg: WorkerStats = { type: 'stats', counters, rtt, interval, movePause, moveResume, notes: [...notes], instances: [...instances], ...extra };
    port.postMessage(msg, [rtt.counts.buffer, interval.counts.buffer, movePause.counts.buffer, moveResume.counts.buffer] as ArrayBuffer[]);
  };

  // The one timer: fixed step from `start`, recomputed when the first WELCOME tells the tick rate.
  const start = performance.now();
  let step = 5; // ms until the tick rate is known
  let rateKnown = false;
  let k = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    const now = performance.now();
    for (let i = 0; i < bots.length; i++) bots[i].update(now);
    for (let i = 0; i < spectators.length; i++) spectators[i].update(now);
    if (!rateKnown) {
      const b = bots.find((x) => x.net.tickRate > 0);
      if (b) {
        rateKnown = true;
        step = 1000 / b.net.tickRate / 8;
        k = Math.floor((now - start) / step);
      }
    }
    k = Math.max(k + 1, Math.floor((now - start) / step) + 1); // steps the loop was too late for are skipped
    timer = setTimeout(loop, Math.max(0, start + k * step - performance.now()));
  };
  loop();

  port.on('message', (m: ToWorker) => {
    if (m.type === 'add') {
      for (const b of m.bots) {
        const bot = new Bot(b.index, b.room, cfg.seed, ctx);
        bots.push(bot);
        void bot.start();
      }
    } else if (m.type === 'watch') {
      for (const v of m.spectators) {
        const spectator = new Spectator(v.index, v.room, cfg.seed, ctx);
        spectators.push(spectator);
        void spectator.start();
      }
    } else if (m.type === 'flush') {
      post({ flushId: m.id });
    } else if (m.type === 'stop') {
      stopped = true;
      clearTimeout(timer);
      for (const b of bots) b.stop();
      for (const v of spectators) v.stop();
      post({ final: true });
    }
  });
}

if (parentPort) main(parentPort, workerData as WorkerConfig);
