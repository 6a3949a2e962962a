/**
 * Load-test options: typed defaults, bounds, the loopback-only rule, and the CLI
 * flag parser. `runLoadTest` validates through here too, so the programmatic and
 * command-line paths refuse the same things.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { GAME_NAMES, policyFor } from './games.ts';
import { type Scenario, SCENARIOS } from './policy.ts';
import { TRANSPORTS, type Transport } from './transport.ts';

export const LIMITS = {
  maxBots: 10_000,
  maxDurationS: 3600,
  maxWorkers: 64,
  maxRooms: 26 ** 3, // LT + three letters
  maxSpectators: 10_000,
} as const;

export interface Gates {
  maxTickP99Ms?: number;
  maxDesyncs?: number;
  minConnected?: number; // fraction of requested bots that completed the handshake
  maxRttP99Ms?: number;
}

export interface LoadTestOptions {
  /** WebSocket endpoint, e.g. ws://127.0.0.1:8080/ws or wss://localhost:8443/ws; loopback hosts only. */
  url: string;
  /** wss:// only: a PEM file of the certificates to trust instead of the usual roots (a server's self-signed one). */
  ca?: string;
  bots: number;
  rooms: number;
  /**
   * How bots, spectators and the probe reach the server: `ws` (the WebSocket, wire.ts) or `sse`
   * (Server-Sent Events down, POST up: netcode/ssesocket.ts, the fallback for networks that
   * refuse the upgrade). Either way the URL given is the ws:// one.
   */
  transport: Transport;
  /**
   * Headless spectators (`&spectate=1`), spread over the run's rooms: they send HELLO, a PING
   * once a second and ACK 0 after a snapshot fails, never INPUT; counted apart from the bots.
   */
  spectators: number;
  /** Measured window, s (after the ramp has finished). */
  durationS: number;
  /** Bots started per second; 0 = all at once. */
  rampPerS: number;
  /** The game the bots play (games.ts: its bot policy); the server must run the same game. */
  game: string;
  scenario: Scenario;
  workers: number;
  seed: number;
  /** churn: fraction of bots dropping their socket per second. */
  churnPerS: number;
  /** chat: seconds between one bot's chat messages. */
  chatEveryS: number;
  /** Run the idle-loop RTT probe (probe.ts) in a room of its own. */
  probe: boolean;
  /** Print the live line once a second on stderr. */
  progress: boolean;
  gates: Gates;
  /** redis://127.0.0.1:PORT of the cluster's Redis: its commands per second over the window go in the report. */
  redis?: string;
  json?: string;
  html?: string;
}

/** One worker per spare core: the main thread and the OS keep one. */
export const defaultWorkers = (): number => Math.max(1, availableParallelism() - 1);

export function defaults(): LoadTestOptions {
  return {
    url: 'ws://127.0.0.1:8080/ws', bots: 100, rooms: 10, transport: 'ws', spectators: 0, durationS: 30, rampPerS: 200, game: 'arena', scenario: 'move',
    workers: defaultWorkers(), seed: 1, churnPerS: 0.02, chatEveryS: 5, probe: true, progress: true, gates: {},
  };
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', '::1', 'localhost']);

/** Throws unless `url` is ws:// or wss:// on a loopback host: the swarm never loads anything but this machine. */
export function checkLoopback(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--url "${url}" is not a URL (expected e.g. ws://127.0.0.1:8080/ws)`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`--url must use ws:// or wss:// (got ${u.protocol}//)`);
  if (!LOOPBACK.has(u.hostname)) {
    throw new Error(`--url host "${u.hostname}" refused: the load test only targets loopback (127.0.0.1, ::1, localhost)`);
  }
  return u;
}

/** Throws unless `url` is an http(s):// URL on a loopback host (an instance's public base, the join benchmark's --url). */
export function checkHttpLoopback(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${what} "${url}" is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${what} must use http:// or https:// (got ${u.protocol}//)`);
  if (!LOOPBACK.has(u.hostname)) throw new Error(`${what} host "${u.hostname}" refused: the load test only targets loopback (127.0.0.1, ::1, localhost)`);
  return u;
}

/** Throws unless `url` is redis:// on a loopback host, like --url. */
export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis "${url}" is not a URL (expected e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--redis must use redis:// (got ${u.protocol}//)`);
  if (!LOOPBACK.has(u.hostname)) throw new Error(`--redis host "${u.hostname}" refused: the load test only reads a Redis on loopback (127.0.0.1, ::1, localhost)`);
  return u;
}

/** Room i of the run: LT + three letters (LTAAA, LTAAB, …). */
export function roomCode(i: number): string {
  const A = 65;
  return `LT${String.fromCharCode(A + Math.floor(i / 676) % 26, A + Math.floor(i / 26) % 26, A + (i % 26))}`;
}

function bounded(name: string, v: number, min: number, max: number, integer = true): number {
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/** Fills defaults and checks every bound; throws a readable error. */
export function resolveOptions(partial: Partial<LoadTestOptions> & { url: string }): LoadTestOptions {
  const o: LoadTestOptions = { ...defaults(), ...partial, gates: { ...partial.gates } };
  const u = checkLoopback(o.url);
  if (o.ca !== undefined && u.protocol !== 'wss:') throw new Error('--ca applies to wss:// only (the certificate a TLS server presents)');
  if (o.redis !== undefined) checkRedisUrl(o.redis);
  if (!TRANSPORTS.includes(o.transport)) throw new Error(`--transport must be one of ${TRANSPORTS.join('|')}, got ${o.transport}`);
  if (o.ca !== undefined && o.transport === 'sse') {
    throw new Error('--ca does not apply to --transport sse (Node\'s fetch cannot be handed a certificate per request): '
      + 'start the run with NODE_EXTRA_CA_CERTS=FILE instead');
  }
  bounded('--spectators', o.spectators, 0, LIMITS.maxSpectators);
  bounded('--bots', o.bots, 1, LIMITS.maxBots);
  bounded('--rooms', o.rooms, 1, Math.min(LIMITS.maxRooms, o.bots));
  bounded('--duration', o.durationS, 1, LIMITS.maxDurationS, false);
  bounded('--ramp', o.rampPerS, 0, 100_000, false);
  if (o.rampPerS > 0 && o.bots / o.rampPerS > LIMITS.maxDurationS) {
    throw new Error(`--ramp ${o.rampPerS} bots/s would take ${Math.ceil(o.bots / o.rampPerS)} s to start ${o.bots} bots; `
      + `the ramp must finish within ${LIMITS.maxDurationS} s (use --ramp >= ${Math.ceil((o.bots / LIMITS.maxDurationS) * 100) / 100}, or 0 for all at once)`);
  }
  bounded('--workers', o.workers, 1, LIMITS.maxWorkers);
  bounded('--churn-rate', o.churnPerS, 0, 1, false);
  bounded('--chat-every', o.chatEveryS, 0.2, 3600, false);
  if (!SCENARIOS.includes(o.scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join('|')}, got ${o.scenario}`);
  policyFor(o.game); // throws naming the games there are
  return o;
}

export const USAGE = `usage: npm run load-test -- --url ws://127.0.0.1:8080/ws --bots N --rooms R --duration S
  [--transport ws|sse]  (sse: Server-Sent Events down + POST up, the fallback when the WebSocket upgrade is refused; default ws)
  [--spectators N]  (N headless spectators (&spectate=1) over the run's rooms, reported apart; default 0)
  [--game ${GAME_NAMES.join('|')}]  (the game the bots play: its bot policy; default arena)
  [--ramp BOTS_PER_S] [--scenario move|combat|churn|chat] [--workers W] [--seed N]
  [--churn-rate FRACTION_PER_S] [--chat-every S] [--json FILE] [--html FILE] [--quiet] [--no-probe]
  [--ca PEM_FILE]  (wss:// to a server whose certificate the system does not trust, e.g. self-signed)
  [--redis redis://127.0.0.1:PORT]  (a cluster's Redis: its commands/s over the window, from INFO commandstats)
  gates: [--max-tick-p99 MS] [--max-desyncs N] [--min-connected FRACTION] [--max-rtt-p99 MS]`;

/** Parses CLI flags (argv without node and script). */
export function parseCli(argv: string[]): LoadTestOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' }, bots: { type: 'string' }, rooms: { type: 'string' }, duration: { type: 'string' },
      ramp: { type: 'string' }, scenario: { type: 'string' }, workers: { type: 'string' }, seed: { type: 'string' },
      'churn-rate': { type: 'string' }, 'chat-every': { type: 'string' }, json: { type: 'string' },
      html: { type: 'string' }, quiet: { type: 'boolean' }, 'no-probe': { type: 'boolean' }, 'max-tick-p99': { type: 'string' },
      'max-desyncs': { type: 'string' }, 'min-connected': { type: 'string' }, 'max-rtt-p99': { type: 'string' },
      ca: { type: 'string' }, redis: { type: 'string' }, transport: { type: 'string' }, spectators: { type: 'string' },
      game: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) throw new Error(USAGE);
  const d = defaults();
  const num = (v: string | undefined, fallback: number, name: string) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
    return n;
  };
  const opt = (v: string | undefined, name: string) => (v === undefined ? undefined : num(v, 0, name));
  const bots = num(values.bots, d.bots, 'bots');
  return resolveOptions({
    url: values.url ?? d.url,
    ca: values.ca,
    redis: values.redis,
    bots,
    rooms: num(values.rooms, Math.min(d.rooms, Math.max(1, bots)), 'rooms'),
    transport: (values.transport ?? d.transport) as Transport,
    spectators: num(values.spectators, d.spectators, 'spectators'),
    durationS: num(values.duration, d.durationS, 'duration'),
    rampPerS: num(values.ramp, d.rampPerS, 'ramp'),
    game: values.game ?? d.game,
    scenario: (values.scenario ?? d.scenario) as LoadTestOptions['scenario'],
    workers: num(values.workers, d.workers, 'workers'),
    seed: num(values.seed, d.seed, 'seed'),
    churnPerS: num(values['churn-rate'], d.churnPerS, 'churn-rate'),
    chatEveryS: num(values['chat-every'], d.chatEveryS, 'chat-every'),
    probe: !values['no-probe'],
    progress: !values.quiet,
    json: values.json,
    html: values.html,
    gates: {
      maxTickP99Ms: opt(values['max-tick-p99'], 'max-tick-p99'),
      maxDesyncs: opt(values['max-desyncs'], 'max-desyncs'),
      minConnected: opt(values['min-connected'], 'min-connected'),
      maxRttP99Ms: opt(values['max-rtt-p99'], 'max-rtt-p99'),
    },
  });
}
