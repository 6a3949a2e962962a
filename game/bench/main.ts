/**
 * Snapshot codec benchmark (entry point: the only netcode file that reads a clock).
 *   npm run bench                 prints a table
 *   npm run bench -- --json FILE  also writes the figures as JSON
 * Targets: <= 3 B per moving entity, <= 8 B idle, 100 entities encode <= 10 µs,
 * decode+apply <= 15 µs, <= 5 µs server encode per client per tick (500 clients).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchServer, type ServerResult } from './server.ts';
import { benchWorld } from './worlds.ts';

const { values: args } = parseArgs({
  options: { json: { type: 'string' }, reps: { type: 'string', default: '20' } },
});
const reps = Number(args.reps);

const worlds = [
  benchWorld({ players: 16, npcs: 84, ticks: 300, reps, seed: 7 }),
  benchWorld({ players: 50, npcs: 950, ticks: 150, reps: Math.max(3, reps >> 2), seed: 8 }),
];
const serverOpts = { rooms: 10, perRoom: 50, npcs: 50, ticks: 300 };
const server = benchServer({ ...serverOpts, interest: { cellSize: 1, radius: Infinity }, label: 'off (arena default)' });
const serverInterest = benchServer({ ...serverOpts, interest: { cellSize: 400, radius: 1 }, label: 'cells 400 u, radius 1' });

const cols = [
  'entities',
  'moving',
  'encode_us',
  'decode_us',
  'bytes_per_snapshot',
  'bytes_per_moving_entity',
  'idle_bytes',
  'full_bytes',
  'naive_full_bytes',
] as const;
console.log('Snapshot delta, real arena traffic at 30 Hz (median per snapshot)');
console.log(cols.map((c) => c.padStart(c.length)).join('  '));
for (const w of worlds) console.log(cols.map((c) => String(w[c]).padStart(c.length)).join('  '));
const line = (s: ServerResult): string =>
  `server: ${s.clients} clients / ${s.rooms} rooms @ ${s.hz} Hz, interest ${s.interest}: ` +
  `${s.encode_us_per_client_tick} µs encode per client per tick, ${s.bodies_per_room_tick} bodies encoded per room tick`;
console.log(line(server));
console.log(line(serverInterest));

if (args.json) {
  writeFileSync(args.json, `${JSON.stringify({ worlds, server, server_interest: serverInterest }, null, 2)}\n`);
  console.log(`wrote ${args.json}`);
}
