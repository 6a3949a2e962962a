/**
 * Our server with its game work taken out, to measure what the rest costs: the shell
 * between the bare floor (load-test/floor.ts) and the real server. It runs the real server
 * (uWS app, upgrade checks, sockets, rooms, tick clock, /healthz), and once a room has
 * ticked SHELL_WARM_S seconds (default 4: the bots have joined), that room
 *
 * - reads each INPUT up to the room's `receive`, then drops it: no decode, no
 *   message limit, no queue (other messages, such as a late HELLO or a PING, still go
 *   the whole way, as the floor answers PINGs);
 * - on each tick publishes one prebuilt 150-byte buffer on its channel instead of
 *   simulating, encoding and sending, like the floor.
 *
 * From then on the bots count every snapshot as a decode error, as with the floor;
 * only the server's CPU means anything. `load-test/ab-cpu.sh floor shell` puts it
 * against the floor on one core at once, `load-test/ab-cpu.sh shell .` against the
 * whole server (BENCHMARKS.md (a)).
 *
 *   TICK_RATE=20 NPC_COUNT=0 MAX_PLAYERS_PER_ROOM=50 VIEW_RADIUS=0 PORT=8090 taskset -c 0 \
 *     node --import tsx server/bench/shell.ts
 *
 * Entry point: it patches Room's two methods in this process only.
 */
import { C_INPUT } from '../../netcode/protocol.ts';
import { loadConfig } from '../config.ts';
import { startServer } from '../main.ts';
import type { Member } from '../member.ts';
import { Room } from '../room.ts';
import type { Channel } from '../transport.ts';

let cfg: ReturnType<typeof loadConfig>;
try {
  cfg = loadConfig(process.env);
} catch (err) {
  console.error(`shell: ${(err as Error).message}`);
  process.exit(2);
}
const warmS = Number(process.env.SHELL_WARM_S ?? 4);
if (!(warmS >= 0)) {
  console.error(`shell: SHELL_WARM_S must be a number of seconds ≥ 0 (got ${process.env.SHELL_WARM_S})`);
  process.exit(2);
}
const warmTicks = Math.round(warmS * cfg.tickRate);
const filler = new Uint8Array(150).fill(7);
const ticks = new WeakMap<Room, number>(); // room ticks run so far, warm-up included
/** The room's channel: private to its fan-out, reached here by name (this tool only), so a rename fails loudly. */
function channelOf(room: Room): Channel {
  const channel = (room as unknown as { fanout?: { channel?: Channel | null } }).fanout?.channel;
  if (!channel) throw new Error('shell: no room.fanout.channel to publish on (renamed? update server/bench/shell.ts)');
  return channel;
}

const step = Room.prototype.step;
Room.prototype.step = function (this: Room, now: number): void {
  const n = (ticks.get(this) ?? 0) + 1;
  ticks.set(this, n);
  if (n <= warmTicks) step.call(this, now);
  else channelOf(this).publish(filler);
};

const receive = Room.prototype.receive;
// Named parameters, not a rest array: this runs once per message, in what the shell measures.
Room.prototype.receive = function (this: Room, m: Member, bytes: Uint8Array, now: number, row?: number): void {
  if (bytes[1] === C_INPUT && (ticks.get(this) ?? 0) > warmTicks) return;
  receive.call(this, m, bytes, now, row);
};

startServer(cfg, (level, msg) => { if (level !== 'info') console.error(`[${level}] ${msg}`); }).then((srv) => {
  console.log(`shell on ${srv.url}/ws, ${cfg.tickRate} Hz, game work off after ${warmS} s of a room's ticks`);
}, (err: Error) => {
  console.error(`shell: ${err.message}`);
  process.exit(1);
});
