/**
 * The bot swarm: worker threads running bots, grown at a ramp rate, measured
 * between marks. The main thread only hands out bots, sums what the workers post
 * and keeps the latency histograms of the current window and second.
 *
 * Bot i goes to worker i % W and joins room `roomOf(i)`; a swarm only grows, so a
 * capacity ramp keeps its earlier bots connected while adding more.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addCounters, type Counters, zeroCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import { Histogram } from './histogram.ts';
import type { Scenario } from './policy.ts';
import type { Transport } from './transport.ts';
import type { ToWorker, WorkerConfig, WorkerStats } from './worker.ts';

export interface SwarmOptions {
  endpoint: Endpoint;
  transport: Transport;
  /** The game's name (games.ts); default arena. */
  game?: string;
  scenario: Scenario;
  workers: number;
  seed: number;
  churnPerS: number;
  chatEveryS: number;
  roomOf: (index: number) => string;
}

/** Everything counted up to one moment; two marks give a window. */
export interface Mark {
  at: number; // ms, performance.now()
  counters: Counters;
  /** Latencies recorded since the previous mark. */
  rtt: Histogram;
  interval: Histogram;
  /** CPU of this whole process (main thread + workers), µs. */
  cpu: NodeJS.CpuUsage;
  /** Event-loop utilization of each worker since the previous mark (0..1). */
  elu: number[];
  /** Live bots by the cluster instance that welcomed them (empty on a standalone server). */
  instances: Record<string, number>;
}

type Elu = ReturnType<Worker['performance']['eventLoopUtilization']>;

interface Slot {
  worker: Worker;
  counters: Counters;
  notes: Map<string, number>;
  instances: [string, number][];
  elu: Elu;
  waiting: Map<number, () => void>; // flush id → resolve
  final?: () => void;
  dead: boolean;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Swarm {
  private slots: Slot[] = [];
  private added = 0;
  private watching = 0;
  private flushId = 0;
  private window = { rtt: new Histogram(), interval: new Histogram() };
  private second = { rtt: new Histogram(), interval: new Histogram() };
  /** Moves over the whole run (not per window: a drain may fall in the ramp). */
  readonly moves = { pause: new Histogram(), resume: new Histogram() };
  readonly crashes: string[] = [];

  constructor(private readonly opts: SwarmOptions) {}

  get size(): number {
    return this.added;
  }

  async start(): Promise<void> {
    const cfg: WorkerConfig = {
      endpoint: this.opts.endpoint, transport: this.opts.transport, game: this.opts.game ?? 'arena', scenario: this.opts.scenario, seed: this.opts.seed,
      churnPerS: this.opts.churnPerS, chatEveryMs: this.opts.chatEveryS * 1000,
    };
    // Node 20 does not run ESM loader hooks (`--import tsx`) in worker threads, so a worker
    // starts from a CommonJS stub that registers tsx's require hook and requires worker.ts.
    const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
    const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
    const stub = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(entry)});`;
    const online: Promise<void>[] = [];
    for (let i = 0; i < this.opts.workers; i++) {
      const worker = new Worker(stub, { eval: true, workerData: cfg, execArgv: [] });
      const slot: Slot = { worker, counters: zeroCounters(), notes: new Map(), instances: [], elu: worker.performance.eventLoopUtilization(), waiting: new Map(), dead: false };
      worker.on('message', (m: WorkerStats) => this.onStats(slot, m));
      worker.on('error', (err) => {
        this.crashes.push(`worker ${i}: ${err.message}`);
        slot.dead = true;
        slot.final?.();
        for (const f of slot.waiting.values()) f();
      });
      online.push(new Promise((resolve) => worker.once('online', () => resolve())));
      this.slots.push(slot);
    }
    await Promise.all(online);
  }

  private onStats(slot: Slot, m: WorkerStats): void {
    slot.counters = m.counters;
    slot.notes = new Map(m.notes);
    slot.instances = m.instances;
    for (const h of [this.window, this.second]) {
      h.rtt.merge(m.rtt);
      h.interval.merge(m.interval);
    }
    this.moves.pause.merge(m.movePause);
    this.moves.resume.merge(m.moveResume);
    if (m.flushId !== undefined) {
      slot.waiting.get(m.flushId)?.();
      slot.waiting.delete(m.flushId);
    }
    if (m.final) slot.final?.();
  }

  /** Sum of the workers' newest counters. */
  totals(): Counters {
    const c = zeroCounters();
    for (const s of this.slots) addCounters(c, s.counters);
    return c;
  }

  /** Live bots by instance, summed over the workers' newest posts, ids in order. */
  instances(): Record<string, number> {
    const all = new Map<string, number>();
    for (const s of this.slots) for (const [id, n] of s.instances) all.set(id, (all.get(id) ?? 0) + n);
    return Object.fromEntries([...all].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }

  /** Error kinds seen by any bot, with counts. */
  notes(): [string, number][] {
    const all = new Map<string, number>();
    for (const s of this.slots) for (const [k, n] of s.notes) all.set(k, (all.get(k) ?? 0) + n);
    return [...all].sort((a, b) => b[1] - a[1]);
  }

  /**
   * Starts bots until `target` at `rampPerS` (0 = at once); resolves once each has
   * connected or failed, or `timeoutMs` after the last one started.
   */
  async grow(target: number, rampPerS: number, timeoutMs = 15_000): Promise<void> {
    const from = this.added;
    const t0 = performance.now();
    while (this.added < target) {
      if (this.crashes.length) throw new Error(`bot worker crashed: ${this.crashes.join('; ')}`);
      const due = rampPerS > 0 ? from + Math.floor((rampPerS * (performance.now() - t0)) / 1000) + 1 : target;
      const batches: ToWorker[] = this.slots.map(() => ({ type: 'add', bots: [] }));
      for (; this.added < Math.min(due, target); this.added++) {
        const b = batches[this.added % this.slots.length] as Extract<ToWorker, { type: 'add' }>;
        b.bots.push({ index: this.added, room: this.opts.roomOf(this.added) });
      }
      batches.forEach((b, i) => { if ((b as { bots: unknown[] }).bots.length) this.slots[i].worker.postMessage(b); });
      if (this.added < target) await settle(20);
    }
    await this.until((c) => c.connected + c.failed >= target, timeoutMs, 200);
  }

  /**
   * Starts `n` more spectators (spectator.ts), spectator i in room `roomOf(i)`, spread over the
   * workers; resolves once each has been welcomed or failed, or `timeoutMs` after they started.
   */
  async watch(n: number, timeoutMs = 15_000): Promise<void> {
    const batches = this.slots.map(() => [] as { index: number; room: string }[]);
    const target = this.watching + n;
    for (; this.watching < target; this.watching++) batches[this.watching % this.slots.length].push({ index: this.watching, room: this.opts.roomOf(this.watching) });
    batches.forEach((spectators, i) => { if (spectators.length) this.slots[i].worker.postMessage({ type: 'watch', spectators } satisfies ToWorker); });
    await this.until((c) => c.specConnected + c.specFailed >= target, timeoutMs, 100);
  }

  /** Polls the workers' counters every `pollMs` until `done` holds or `timeoutMs` passed; throws if a worker crashed. */
  private async until(done: (c: Counters) => boolean, timeoutMs: number, pollMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.crashes.length) throw new Error(`bot worker crashed: ${this.crashes.join('; ')}`);
      await this.flush();
      if (done(this.totals())) return;
      await settle(pollMs);
    }
  }

  /** Asks every worker for its counters; resolves when all answered. */
  flush(): Promise<void> {
    const id = ++this.flushId;
    return Promise.all(this.slots.filter((s) => !s.dead).map((s) => new Promise<void>((resolve) => {
      s.waiting.set(id, resolve);
      s.worker.postMessage({ type: 'flush', id } satisfies ToWorker);
    }))).then(() => {});
  }

  /** Flushes every worker and returns the totals and the latencies since the previous mark. */
  async mark(): Promise<Mark> {
    await this.flush();
    const elu = this.slots.map((s) => {
      const now = s.worker.performance.eventLoopUtilization();
      const d = s.worker.performance.eventLoopUtilization(now, s.elu);
      s.elu = now;
      return d.utilization;
    });
    const m: Mark = { at: performance.now(), counters: this.totals(), rtt: this.window.rtt, interval: this.window.interval, cpu: process.cpuUsage(), elu, instances: this.instances() };
    this.window = { rtt: new Histogram(), interval: new Histogram() };
    return m;
  }

  /** Latencies recorded since the previous call (for the live line). */
  takeSecond(): { rtt: Histogram; interval: Histogram } {
    const s = this.second;
    this.second = { rtt: new Histogram(), interval: new Histogram() };
    return s;
  }

  /** Closes every bot's socket normally, collects the last counts and ends the workers. */
  async stop(): Promise<Counters> {
    await Promise.all(this.slots.filter((s) => !s.dead).map((s) => new Promise<void>((resolve) => {
      s.final = resolve;
      s.worker.postMessage({ type: 'stop' } satisfies ToWorker);
      setTimeout(resolve, 3000).unref();
    })));
    await settle(300); // let the close frames go out
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    return this.totals();
  }
}
