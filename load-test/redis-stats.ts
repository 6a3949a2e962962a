/**
 * What a cluster asks of its Redis while the swarm plays (`--redis URL`): Redis's own
 * count of each command it ran (`INFO commandstats`), read at the window's start and
 * end. The design (server/cluster/node.ts) keeps Redis off every tick, input and
 * snapshot: a heartbeat SET per instance a second, a sweep every ten, and directory
 * look-ups for joins. So the figure should stay near a heartbeat per instance, whatever
 * the number of players; the budget line in the report says how near.
 *
 * Read over a plain socket in RESP rather than with ioredis: a client library adds
 * commands of its own (ioredis's ready check is itself an INFO). Our own calls are known
 * exactly and taken out (`OWN_BETWEEN`). Redis counts a command a Lua script runs
 * (redis.call) under its own name as well as the EVALSHA that ran it.
 */
import net from 'node:net';
import { checkRedisUrl } from './options.ts';

/** Calls of each command since Redis started (or its last CONFIG RESETSTAT). */
export type CommandCounts = Map<string, number>;

/** RESP array of bulk strings: one command. */
const resp = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** `INFO commandstats` of the Redis at `url` (loopback only), AUTH first when the URL carries a password. */
export function readCommandStats(url: string, timeoutMs = 2000): Promise<CommandCounts> {
  const u = checkRedisUrl(url);
  const auth = u.password ? [u.username ? decodeURIComponent(u.username) : '', decodeURIComponent(u.password)].filter(Boolean) : null;
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port || 6379), u.hostname.replace(/^\[(.*)\]$/, '$1'));
    let buf = Buffer.alloc(0);
    let replies = 0;
    const done = (err: Error | null, counts?: CommandCounts) => {
      s.destroy();
      if (err) reject(new Error(`--redis ${u.host}: ${err.message}`));
      else resolve(counts!);
    };
    s.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    s.once('error', (err) => done(err));
    s.once('connect', () => s.write((auth ? resp(['AUTH', ...auth]) : '') + resp(['INFO', 'commandstats'])));
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const head = buf.toString('latin1', 0, eol);
        if (head[0] === '-') return done(new Error(head.slice(1)));
        if (head[0] === '+') { // AUTH's +OK
          buf = buf.subarray(eol + 2);
          replies++;
          continue;
        }
        if (head[0] !== '$') return done(new Error(`unexpected reply ${head.slice(0, 40)}`));
        const len = Number(head.slice(1));
        if (buf.length < eol + 2 + len + 2) return;
        if (auth && replies === 0) return done(new Error('no reply to AUTH'));
        return done(null, parseCommandStats(buf.toString('utf8', eol + 2, eol + 2 + len)));
      }
    });
  });
}

/** `cmdstat_set:calls=12,usec=…` lines → set → 12. Subcommands keep Redis's name (`client|setname`). */
export function parseCommandStats(text: string): CommandCounts {
  const out: CommandCounts = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

/**
 * Our own commands between two readings' answers. Redis counts a command once it has run,
 * so an INFO's answer leaves that INFO out: the window holds the first reading's INFO and
 * the second reading's AUTH (with a password).
 */
export const ownBetween = (auth: boolean): Record<string, number> => (auth ? { info: 1, auth: 1 } : { info: 1 });

export interface RedisFigures {
  /** Every command Redis ran over the window, ours taken out, per second. */
  commands_per_s: number;
  /** The same by command name, highest first; commands that did not run are left out. */
  by_command: Record<string, number>;
  /** 2 × instances + 0.01 × players: a heartbeat and a sweep's share per instance, and joins' look-ups. */
  budget_per_s: number;
  instances: number;
  players: number;
  /** Seconds between the two readings. */
  window_s: number;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The budget the cluster's design keeps to; `instances` and `players` as measured. */
export const redisBudget = (instances: number, players: number): number => 2 * instances + 0.01 * players;

export function redisFigures(
  start: CommandCounts, end: CommandCounts, dtS: number, own: Record<string, number>, instances: number, players: number,
): RedisFigures {
  const rates: [string, number][] = [];
  let total = 0;
  for (const [cmd, calls] of end) {
    const n = calls - (start.get(cmd) ?? 0) - (own[cmd] ?? 0);
    if (n <= 0) continue;
    total += n;
    rates.push([cmd, r3(n / dtS)]);
  }
  rates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    commands_per_s: r3(total / dtS), by_command: Object.fromEntries(rates), budget_per_s: r3(redisBudget(instances, players)),
    instances, players, window_s: r3(dtS),
  };
}
