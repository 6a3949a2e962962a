/**
 * `npm run load-test:capacity [-- --step 100 --step-s 10 --room-size 16 --max-bots 2000
 *   --tick-budget 8 --tick-rate 30 --workers W --scenario move --json FILE --no-pin]`
 *
 * Starts a fresh server (pinned to cpu 0 when taskset exists; the bots take the
 * other cores), then adds bots step by step, keeping the earlier ones connected,
 * until a step breaks: server room tick p99 over budget, a desync, a missed or
 * skipped snapshot, a dropped tick, a bot that could not connect, or bots whose own
 * event loop saturated (then the limit is theirs, not the server's). A broken step is
 * measured once more (a shared machine has hiccups; a desync counts at once). Prints
 * the largest count that held, and per step the CPU that other processes took.
 * Always stops the server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { fetchHealthz } from './healthz.ts';
import { defaultWorkers, LIMITS, roomCode } from './options.ts';
import { type Scenario, SCENARIOS } from './policy.ts';
import { pinSelf, startServerProcess } from './server-process.ts';
import { Swarm } from './swarm.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat), or NaN elsewhere. */
function machineBusyS(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100; // user nice system irq softirq steal, USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

function options() {
  const { values: v } = parseArgs({
    options: {
      step: { type: 'string', default: '100' }, 'step-s': { type: 'string', default: '10' },
      'room-size': { type: 'string', default: '16' }, 'max-bots': { type: 'string', default: '2000' },
      'tick-budget': { type: 'string', default: '8' }, 'tick-rate': { type: 'string', default: '30' },
      workers: { type: 'string', default: String(defaultWorkers()) }, scenario: { type: 'string', default: 'move' },
      json: { type: 'string' }, 'no-pin': { type: 'boolean', default: false },
    },
  });
  const n = (name: keyof typeof v, min: number, max: number) => {
    const x = Number(v[name]);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
    return x;
  };
  const scenario = v.scenario as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join('|')}`);
  return {
    step: n('step', 1, 1000), stepS: n('step-s', 2, 600), roomSize: n('room-size', 1, 256), maxBots: n('max-bots', 1, LIMITS.maxBots),
    budgetMs: n('tick-budget', 0.1, 1000), tickRate: n('tick-rate', 1, 120), workers: n('workers', 1, LIMITS.maxWorkers),
    scenario, json: v.json, pin: !v['no-pin'],
  };
}

async function main(): Promise<number> {
  const o = options();
  const cores = availableParallelism();
  const pin = o.pin && cores > 1;
  const server = await startServerProcess({
    env: { TICK_RATE: String(o.tickRate), NPC_COUNT: '0', MAX_PLAYERS_PER_ROOM: String(o.roomSize) },
    cpus: pin ? '0' : undefined,
    log: (s) => console.error(s),
  });
  if (server.pinned && pinSelf(`1-${cores - 1}`)) console.error(`bots pinned to cpu 1-${cores - 1}`);
  const swarm = new Swarm({
    endpoint: server.endpoint, transport: 'ws', scenario: o.scenario, workers: o.workers, seed: 1, churnPerS: 0, chatEveryS: 5,
    roomOf: (i) => roomCode(Math.floor(i / o.roomSize)),
  });
  const steps: Record<string, unknown>[] = [];
  let held = 0;
  let verdict = `reached --max-bots ${o.maxBots}`;

  /** Measures one step of `o.stepS` seconds at the current size; returns what broke (empty = held). */
  const measure = async (target: number, attempt: number): Promise<string[]> => {
    await sleep(1000);
    const h0 = await fetchHealthz(server.endpoint);
    const m0 = await swarm.mark();
    const busy0 = machineBusyS();
    await sleep(o.stepS * 1000);
    const m1 = await swarm.mark();
    const busy1 = machineBusyS();
    const h1 = await fetchHealthz(server.endpoint);
    const dt = (m1.at - m0.at) / 1000;
    const c = (k: keyof typeof m1.counters) => m1.counters[k] - m0.counters[k];
    const r = (v: number, d = 1000) => Math.round(v * d) / d;
    const serverCpu = (h1.cpu_s - h0.cpu_s) / dt;
    const botCpu = (m1.cpu.user + m1.cpu.system - m0.cpu.user - m0.cpu.system) / 1e6 / dt;
    const s = {
      bots: target, attempt, live: m1.counters.live, failed: m1.counters.failed, tick_ms: h1.tick_ms,
      ticks_overrun: h1.ticks_overrun - h0.ticks_overrun, ticks_dropped: h1.ticks_dropped - h0.ticks_dropped,
      snapshots_per_bot_s: r(c('snapshots') / dt / Math.max(1, m1.counters.live), 100),
      missed: c('missed'), skipped: h1.snapshots_skipped - h0.snapshots_skipped, desyncs: m1.counters.desyncs,
      decode_errors: c('decodeErrors'),
      input_ack_p99_ms: h1.input_ack_ms.p99, rtt_p99_ms: r(m1.rtt.quantile(0.99), 100),
      server_cpu_s_per_s: r(serverCpu), bot_cpu_s_per_s: r(botCpu), bot_elu_max: r(Math.max(...m1.elu), 100),
      // CPU used on this machine by anything but the server and the bots (other jobs disturb the figures)
      foreign_cpu_s_per_s: r((busy1 - busy0) / dt - serverCpu - botCpu, 100),
    };
    steps.push(s);
    const broke = [
      s.tick_ms.p99 > o.budgetMs && `tick p99 ${s.tick_ms.p99} ms > ${o.budgetMs} ms`,
      s.desyncs > 0 && `${s.desyncs} desyncs`, s.decode_errors > 0 && `${s.decode_errors} snapshots failed to apply`,
      s.missed > 0 && `${s.missed} missed snapshots`,
      s.skipped > 0 && `${s.skipped} snapshots skipped`, s.failed > 0 && `${s.failed} bots failed to connect`,
      s.ticks_dropped > 0 && `${s.ticks_dropped} ticks dropped`,
      s.snapshots_per_bot_s < 0.98 * o.tickRate && `${s.snapshots_per_bot_s} snapshots/bot/s < 98 % of ${o.tickRate}`,
      // Past this the figures measure the bots, not the server: stop rather than report a server limit.
      s.bot_elu_max > 0.95 && `bots saturated (worker loop ${Math.round(s.bot_elu_max * 100)} % busy): limited by the bots, not the server`,
    ].filter(Boolean) as string[];
    console.error(`bots ${String(target).padStart(5)}  tick p50/p99/max ${s.tick_ms.p50}/${s.tick_ms.p99}/${s.tick_ms.max} ms  `
      + `snaps/bot/s ${s.snapshots_per_bot_s}  missed ${s.missed}  skipped ${s.skipped}  desyncs ${s.desyncs}  `
      + `ack p99 ${s.input_ack_p99_ms} ms  rtt p99 ${s.rtt_p99_ms} ms  cpu: server ${s.server_cpu_s_per_s}  `
      + `bots ${s.bot_cpu_s_per_s} (loop ${Math.round(s.bot_elu_max * 100)} %)  other ${s.foreign_cpu_s_per_s}  `
      + `${broke.length ? `BROKE: ${broke.join(', ')}` : 'held'}`);
    return broke;
  };

  try {
    await swarm.start();
    for (let target = Math.min(o.step, o.maxBots); target <= o.maxBots; target += o.step) {
      await swarm.grow(target, o.step); // a step's bots arrive within ~1 s
      let broke = await measure(target, 1);
      // A shared machine has hiccups: a step that breaks is measured once more before it counts.
      if (broke.length && !broke.some((b) => b.includes('desync'))) broke = await measure(target, 2);
      if (broke.length) {
        verdict = `${target} broke (${broke.join(', ')})`;
        break;
      }
      held = target;
    }
  } finally {
    await swarm.stop().catch(() => {});
    await server.stop();
  }
  console.log(`capacity: ${held} bots held at ${o.tickRate} Hz (rooms of ${o.roomSize}, tick budget ${o.budgetMs} ms, `
    + `server ${server.pinned ? `pinned to cpu ${server.pinned}` : 'not pinned'}); ${verdict}`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ held, verdict, options: o, steps }, null, 2)}\n`);
  return 0;
}

main().then((code) => process.exit(code), (err: Error) => {
  console.error(`load-test:capacity: ${err.message}`);
  process.exit(2);
});
