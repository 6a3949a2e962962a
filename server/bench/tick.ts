/**
 * Room tick cost, in process: one real Room with N players on in-memory links
 * (each client applies its snapshots and acks, as a browser does) and M drones.
 * Measures room.step() — inputs, simulate, quantize, delta-encode, frame — and
 * room.receive() of each client's INPUT with the real clock; the socket reads and
 * writes themselves are not included (see load-test/).
 *
 *   npm run bench:tick -- [--players 16] [--npcs 200] [--seconds 60] [--rate 30] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP, nextFloat } from '../../game/sim/index.ts';
import { ARENA_SCHEMA } from '../../game/sim/netschema.ts';
import { NetClient } from '../../netcode/client.ts';
import { defaultConfig } from '../config.ts';
import type { Member } from '../member.ts';
import { Room } from '../room.ts';
import { MemoryChannel } from '../transport.ts';
import { SampleRing } from '../../netcode/samples.ts';

const { values: args } = parseArgs({
  options: {
    players: { type: 'string', default: '16' },
    npcs: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '30' },
    json: { type: 'string' },
  },
});
const players = Number(args.players);
const rate = Number(args.rate);
const ticks = Math.round(Number(args.seconds) * rate);
const cfg = { ...defaultConfig(), npcCount: Number(args.npcs), tickRate: rate, maxPlayersPerRoom: Math.max(16, players), secret: 'bench' };
const channel = new MemoryChannel();
const room = new Room({ code: 'BENCH', config: cfg, now: 0, seed: 7, channel });
const rng = { state: 99 };
const rnd = () => nextFloat(rng);

interface Bot { net: NetClient; member: Member; inbox: Uint8Array[]; buttons: number; bytes: number }
const bots: Bot[] = [];
for (let i = 0; i < players; i++) {
  const inbox: Uint8Array[] = [];
  const bot = { net: new NetClient(ARENA_SCHEMA), inbox, buttons: 0, bytes: 0 } as Bot;
  const link = {
    send: (b: Uint8Array) => { inbox.push(b); bot.bytes += b.byteLength; },
    buffered: () => 0,
    close: () => {},
    join: (on: boolean) => channel.member(link, on),
  };
  const member = room.connect(`s${i}`, `bot${i}`, link, 0);
  if (!member) throw new Error('room refused a bot');
  bot.member = member;
  room.receive(member, bot.net.hello(), 0);
  bots.push(bot);
}

const period = 1000 / rate;
const warmup = 3 * rate; // JIT warm-up ticks, not measured
const tickMs = new SampleRing(ticks);
const MOVES = [BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP | BTN_LEFT, BTN_DOWN | BTN_RIGHT, 0];
const inputs: Uint8Array[] = new Array(players);
let receiveMs = 0;
for (let t = 1 - warmup; t <= ticks; t++) {
  const now = (t + warmup) * period;
  bots.forEach((b, i) => {
    for (const m of b.inbox.splice(0)) b.net.receive(m, now);
    if (rnd() < 0.05) b.buttons = MOVES[Math.floor(rnd() * MOVES.length)] | (rnd() < 0.5 ? BTN_FIRE : 0);
    inputs[i] = b.net.input({ buttons: b.buttons, aim: Math.floor(rnd() * 65536) }, b.net.serverTick, now).bytes;
  });
  const t0 = performance.now();
  for (let i = 0; i < players; i++) room.receive(bots[i].member, inputs[i], now);
  const t1 = performance.now();
  room.step(now);
  if (t > 0) {
    receiveMs += t1 - t0;
    tickMs.add(performance.now() - t1);
  }
}

const desyncs = bots.reduce((s, b) => s + b.net.stats.desyncs, 0);
const bytesPerSnapshot = bots.reduce((s, b) => s + b.bytes, 0) / (players * (ticks + warmup));
const r3 = (v: number) => Math.round(v * 1000) / 1000;
const result = {
  players, npcs: cfg.npcCount, tick_rate: rate, ticks,
  tick_ms: { p50: r3(tickMs.quantile(0.5)), p99: r3(tickMs.quantile(0.99)), max: r3(tickMs.peak) },
  us_per_client_tick_p50: r3((tickMs.quantile(0.5) * 1000) / players),
  /** Room.receive of one INPUT (rate limit, read, queue, ack), mean. */
  us_per_input: r3((receiveMs * 1000) / (ticks * players)),
  bytes_per_snapshot: Math.round(bytesPerSnapshot), desyncs, node: process.version,
};
console.log(`room tick, ${players} players + ${cfg.npcCount} drones at ${rate} Hz, ${ticks} ticks (interest radius ${cfg.viewRadius} u):`);
console.log(`  tick ms   p50 ${result.tick_ms.p50}   p99 ${result.tick_ms.p99}   max ${result.tick_ms.max}   (p50 ${result.us_per_client_tick_p50} µs per client)`);
console.log(`  receive   ${result.us_per_input} µs per INPUT (mean)`);
console.log(`  snapshot  ${result.bytes_per_snapshot} B average per client   desyncs ${desyncs}`);
if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
