/**
 * Every server setting, typed, with its default, in one place. `loadConfig(env)`
 * overrides defaults from environment variables (see README "Configuration");
 * tests build configs with `defaultConfig()` plus overrides, never by patching.
 */
import { isIP } from 'node:net';

export interface Config {
  port: number; // PORT
  host: string; // HOST
  tickRate: number; // TICK_RATE, Hz
  maxPlayersPerRoom: number; // MAX_PLAYERS_PER_ROOM
  maxSpectatorsPerRoom: number; // MAX_SPECTATORS_PER_ROOM, watchers a room admits besides its players
  maxRooms: number; // MAX_ROOMS, rooms this process holds at once
  npcCount: number; // NPC_COUNT, drones per room
  allowedOrigins: string[]; // ALLOWED_ORIGINS, comma-separated; empty = own host + localhost
  secret: string; // SECRET, HMAC key for session tokens; generated at start when unset
  tokenTtlS: number; // TOKEN_TTL_S
  roomIdleS: number; // ROOM_IDLE_S, an empty room is removed after this
  resumeGraceS: number; // RESUME_GRACE_S, a dropped player's entity is kept this long
  maxCatchUpTicks: number; // MAX_CATCHUP_TICKS, backlog clamp of the tick accumulator
  tickPhases: number; // TICK_PHASES, slots per tick period the rooms' ticks are spread over (fewer: less CPU, longer waits behind ticks)
  maxInputsPerTick: number; // MAX_INPUTS_PER_TICK, queued inputs applied per player per tick
  inputQueueLimit: number; // INPUT_QUEUE_LIMIT, inputs held per player beyond which new ones are refused
  inputReuseTicks: number; // INPUT_REUSE_TICKS, ticks the last input is repeated when none arrived
  historyTicks: number; // HISTORY_TICKS, snapshot ring per room (baselines older than this get a full snapshot)
  viewRadius: number; // VIEW_RADIUS, u; 0 = every entity in everyone's view
  viewCell: number; // VIEW_CELL, u, interest grid cell size
  backpressureBytes: number; // BACKPRESSURE_BYTES, skip a client's snapshot while its socket holds more
  slowReaderS: number; // SLOW_READER_S, a client skipped this long without a break is closed (CLOSE_TOO_SLOW); its seat waits
  slowReaderBytes: number; // SLOW_READER_BYTES, a client whose socket holds more than this is closed at once (CLOSE_TOO_SLOW)
  idleTimeoutS: number; // IDLE_TIMEOUT_S, uWS drops sockets silent for this long (auto-pings keep live ones)
  msgRatePerS: number; // MSG_RATE, messages per second per client (token bucket refill)
  msgBurst: number; // MSG_BURST
  chatRatePerS: number; // CHAT_RATE
  chatBurst: number; // CHAT_BURST
  helloTimeoutS: number; // HELLO_TIMEOUT_S
  staticDir: string; // STATIC_DIR, the built client
  stateFile: string; // STATE_FILE, where rooms are saved on SIGTERM when no other instance takes them, and restored at start; empty = off
  drainDeadlineS: number; // DRAIN_DEADLINE_S, a drain hands rooms to other instances for at most this long, then saves the rest
  tlsCert: string; // TLS_CERT, PEM file: with TLS_KEY, serve https + wss
  tlsKey: string; // TLS_KEY, PEM file
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'; // LOG_LEVEL
  redisUrl: string; // REDIS_URL, redis://host:port[/db]; empty = standalone (no other service needed)
  instanceId: string; // INSTANCE_ID, this instance's name in the cluster; empty = <hostname>-<port>
  publicUrl: string; // PUBLIC_URL, http(s) base players reach this instance at; empty = http://<host>:<port>
  clusterHeartbeatS: number; // CLUSTER_HEARTBEAT_S, period of the registry heartbeat
  clusterTtlS: number; // CLUSTER_TTL_S, an instance that stopped heartbeating drops out after this
  adminToken: string; // ADMIN_TOKEN, bearer token of /api/admin/*; empty = admin API off
  trustedProxies: string[]; // TRUSTED_PROXIES, addresses / CIDRs whose X-Forwarded-For is believed
  ipSessionsPerMin: number; // IP_SESSIONS_PER_MIN, new sessions (tokens) per client address per minute
  ipRoomsPerMin: number; // IP_ROOMS_PER_MIN, rooms opened per client address per minute
  ipUpgradesPerS: number; // IP_UPGRADES_PER_S, WebSocket upgrades per client address per second (bursts of IP_MAX_SOCKETS)
  ipMaxSockets: number; // IP_MAX_SOCKETS, WebSockets open at once per client address
  ipLimitExempt: string[]; // IP_LIMIT_EXEMPT, addresses / CIDRs the per-address limits never apply to
  replayDir: string; // REPLAY_DIR, where matches are recorded (npm run replay:verify reads them); empty = no recording
  replayKeyframeS: number; // REPLAY_KEYFRAME_S, a keyframe (seek point) every this many seconds of a match
  replayMaxKb: number; // REPLAY_MAX_KB, a recording past this (before compression) is written and the match goes on in the next file
  replayMinS: number; // REPLAY_MIN_S, recordings shorter than this are not kept
  replayKeep: number; // REPLAY_KEEP, at most this many replays are kept in REPLAY_DIR (the oldest go first)
  replayRetainDays: number; // REPLAY_RETAIN_DAYS, replays older than this are deleted
}

/** An IPv4/IPv6 address, or such an address with a /prefix. */
function isAddressOrCidr(a: string): boolean {
  const [ip, bits, extra] = a.split('/');
  const family = isIP(ip);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/** STATE_FILE's default; an instance of a cluster left at it uses data/rooms-<INSTANCE_ID>.state (see stateFileOf). */
export const DEFAULT_STATE_FILE = 'data/rooms.state';

/** Settings for which an empty value means "off" rather than "the default". */
const OFF_WHEN_EMPTY: ReadonlySet<string> = new Set(['stateFile', 'replayDir']);

/**
 * The state file this instance uses: STATE_FILE, except that instances of a cluster started
 * in one directory must not share the default file, so theirs is named after INSTANCE_ID.
 */
export function stateFileOf(cfg: Pick<Config, 'stateFile' | 'redisUrl' | 'instanceId'>): string {
  if (cfg.stateFile !== DEFAULT_STATE_FILE || cfg.redisUrl === '' || cfg.instanceId === '') return cfg.stateFile;
  return `data/rooms-${cfg.instanceId}.state`;
}

export function defaultConfig(): Config {
  return {
    port: 8080,
    host: '0.0.0.0',
    tickRate: 30,
    maxPlayersPerRoom: 16,
    maxSpectatorsPerRoom: 2000,
    maxRooms: 500,
    npcCount: 24,
    allowedOrigins: [],
    secret: '',
    tokenTtlS: 24 * 3600,
    roomIdleS: 60,
    resumeGraceS: 30,
    maxCatchUpTicks: 5,
    tickPhases: 8,
    maxInputsPerTick: 3,
    inputQueueLimit: 16,
    inputReuseTicks: 4,
    historyTicks: 64,
    viewRadius: 0, // the default arena (1600×1200 u) fits in about one screen: interest pays off on bigger maps
    viewCell: 400,
    backpressureBytes: 64 * 1024,
    slowReaderS: 10,
    slowReaderBytes: 1 << 20,
    idleTimeoutS: 16,
    msgRatePerS: 90,
    msgBurst: 60,
    chatRatePerS: 1,
    chatBurst: 5,
    helloTimeoutS: 5,
    staticDir: 'dist/client',
    stateFile: DEFAULT_STATE_FILE,
    drainDeadlineS: 10,
    tlsCert: '',
    tlsKey: '',
    logLevel: 'info',
    redisUrl: '',
    instanceId: '',
    publicUrl: '',
    clusterHeartbeatS: 1,
    clusterTtlS: 5,
    adminToken: '',
    trustedProxies: [],
    ipSessionsPerMin: 60,
    ipRoomsPerMin: 20,
    ipUpgradesPerS: 10,
    ipMaxSockets: 64,
    ipLimitExempt: [],
    replayDir: 'data/replays',
    replayKeyframeS: 10,
    replayMaxKb: 4096,
    replayMinS: 10,
    replayKeep: 500,
    replayRetainDays: 14,
  };
}

type Parser<T> = (raw: string, name: string) => T;

/** Instance ids name nginx upstreams and Redis keys: lower-case letters, digits, '-' and '_'. */
export const INSTANCE_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const int = (min: number, max: number): Parser<number> => (raw, name) => {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return v;
};
const num = (min: number, max: number): Parser<number> => (raw, name) => {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
  return v;
};
const str: Parser<string> = (raw) => raw;
const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean);
const instanceId: Parser<string> = (raw, name) => {
  if (!INSTANCE_ID.test(raw)) throw new Error(`${name} must be 1-32 of a-z 0-9 - _, starting with a letter or digit, got "${raw}"`);
  return raw;
};
const url = (schemes: string[], example: string): Parser<string> => (raw, name) => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${name} must be a URL like ${example}, got "${raw}"`);
  }
  if (!schemes.includes(u.protocol)) throw new Error(`${name} must start with ${schemes.map((p) => `${p}//`).join(' or ')}, got "${raw}"`);
  if (u.search || u.hash) throw new Error(`${name} must not have a query or fragment, got "${raw}"`);
  return raw.replace(/\/+$/, '');
};
const addresses: Parser<string[]> = (raw, name) => {
  const out = list(raw, name);
  for (const a of out) if (!isAddressOrCidr(a)) throw new Error(`${name}: "${a}" is not an IP address or CIDR block (e.g. 10.0.0.0/8)`);
  return out;
};
const level: Parser<Config['logLevel']> = (raw, name) => {
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(raw)) throw new Error(`${name} must be debug|info|warn|error|silent`);
  return raw as Config['logLevel'];
};

/** Environment variable → config key and parser. The README's table mirrors this. */
const ENV: { [K in keyof Config]: [string, Parser<Config[K]>] } = {
  port: ['PORT', int(0, 65535)],
  host: ['HOST', str],
  tickRate: ['TICK_RATE', int(1, 120)],
  maxPlayersPerRoom: ['MAX_PLAYERS_PER_ROOM', int(1, 256)],
  maxSpectatorsPerRoom: ['MAX_SPECTATORS_PER_ROOM', int(0, 100_000)],
  maxRooms: ['MAX_ROOMS', int(1, 100000)],
  npcCount: ['NPC_COUNT', int(0, 5000)],
  allowedOrigins: ['ALLOWED_ORIGINS', list],
  secret: ['SECRET', str],
  tokenTtlS: ['TOKEN_TTL_S', int(10, 30 * 24 * 3600)],
  roomIdleS: ['ROOM_IDLE_S', num(0, 86400)],
  resumeGraceS: ['RESUME_GRACE_S', num(0, 3600)],
  maxCatchUpTicks: ['MAX_CATCHUP_TICKS', int(1, 100)],
  tickPhases: ['TICK_PHASES', int(1, 64)],
  maxInputsPerTick: ['MAX_INPUTS_PER_TICK', int(1, 16)],
  inputQueueLimit: ['INPUT_QUEUE_LIMIT', int(1, 256)],
  inputReuseTicks: ['INPUT_REUSE_TICKS', int(0, 60)],
  historyTicks: ['HISTORY_TICKS', int(8, 1024)],
  viewRadius: ['VIEW_RADIUS', num(0, 100000)],
  viewCell: ['VIEW_CELL', num(16, 100000)],
  backpressureBytes: ['BACKPRESSURE_BYTES', int(1024, 1 << 30)],
  slowReaderS: ['SLOW_READER_S', num(0.1, 3600)],
  slowReaderBytes: ['SLOW_READER_BYTES', int(4096, 1 << 30)],
  idleTimeoutS: ['IDLE_TIMEOUT_S', int(8, 960)],
  msgRatePerS: ['MSG_RATE', num(1, 10000)],
  msgBurst: ['MSG_BURST', num(1, 10000)],
  chatRatePerS: ['CHAT_RATE', num(0.01, 100)],
  chatBurst: ['CHAT_BURST', num(1, 100)],
  helloTimeoutS: ['HELLO_TIMEOUT_S', num(0.1, 600)],
  staticDir: ['STATIC_DIR', str],
  stateFile: ['STATE_FILE', str],
  drainDeadlineS: ['DRAIN_DEADLINE_S', num(0.5, 600)],
  tlsCert: ['TLS_CERT', str],
  tlsKey: ['TLS_KEY', str],
  logLevel: ['LOG_LEVEL', level],
  redisUrl: ['REDIS_URL', url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379')],
  instanceId: ['INSTANCE_ID', instanceId],
  publicUrl: ['PUBLIC_URL', url(['http:', 'https:'], 'https://play.example.com/i/a')],
  clusterHeartbeatS: ['CLUSTER_HEARTBEAT_S', num(0.1, 2)],
  clusterTtlS: ['CLUSTER_TTL_S', num(0.5, 6)],
  adminToken: ['ADMIN_TOKEN', str],
  trustedProxies: ['TRUSTED_PROXIES', addresses],
  ipSessionsPerMin: ['IP_SESSIONS_PER_MIN', int(1, 1_000_000)],
  ipRoomsPerMin: ['IP_ROOMS_PER_MIN', int(1, 1_000_000)],
  ipUpgradesPerS: ['IP_UPGRADES_PER_S', num(0.1, 100_000)],
  ipMaxSockets: ['IP_MAX_SOCKETS', int(1, 1_000_000)],
  ipLimitExempt: ['IP_LIMIT_EXEMPT', addresses],
  replayDir: ['REPLAY_DIR', str],
  replayKeyframeS: ['REPLAY_KEYFRAME_S', num(0.5, 600)],
  replayMaxKb: ['REPLAY_MAX_KB', int(16, 1 << 20)],
  replayMinS: ['REPLAY_MIN_S', num(0, 86400)],
  replayKeep: ['REPLAY_KEEP', int(1, 1_000_000)],
  replayRetainDays: ['REPLAY_RETAIN_DAYS', num(0.001, 36500)],
};

export const ENV_NAMES: ReadonlyArray<[keyof Config, string]> = Object.entries(ENV).map(([k, [e]]) => [k as keyof Config, e]);

/** Defaults overridden by the variables set in `env`; throws a readable error on a bad value. */
export function loadConfig(env: Record<string, string | undefined> = {}, overrides: Partial<Config> = {}): Config {
  const cfg = defaultConfig() as unknown as Record<string, unknown>;
  for (const [key, [name, parse]] of Object.entries(ENV) as [string, [string, Parser<unknown>]][]) {
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') cfg[key] = parse(raw.trim(), name);
    else if (raw !== undefined && OFF_WHEN_EMPTY.has(key)) cfg[key] = '';
  }
  const out = { ...(cfg as unknown as Config), ...overrides };
  if (!out.tlsCert !== !out.tlsKey) throw new Error('TLS_CERT and TLS_KEY go together: set both or neither');
  if (out.clusterTtlS < 2 * out.clusterHeartbeatS) {
    throw new Error(`CLUSTER_TTL_S (${out.clusterTtlS}) must be at least twice CLUSTER_HEARTBEAT_S (${out.clusterHeartbeatS}): one late heartbeat must not drop a live instance`);
  }
  if (out.slowReaderBytes <= out.backpressureBytes) {
    throw new Error(`SLOW_READER_BYTES (${out.slowReaderBytes}) must be above BACKPRESSURE_BYTES (${out.backpressureBytes}): a client is skipped before it is closed`);
  }
  if (out.adminToken !== '' && out.adminToken.length < 16) throw new Error('ADMIN_TOKEN must be at least 16 characters (or empty to turn the admin API off)');
  return out;
}
