/**
 * Server entry point: the only server module that reads the real clock and
 * starts timers. `startServer` is what `npm start` and the integration tests run.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import uWS from 'uWebSockets.js';
import { CLOSE_GOING_AWAY } from '../netcode/protocol.ts';
import { mountAdmin } from './admin.ts';
import { ClusterNode } from './cluster/node.ts';
import { type Config, loadConfig, stateFileOf } from './config.ts';
import { Drainer, type DrainReport } from './drain.ts';
import { IpLimits } from './iplimits.ts';
import { cpuSeconds, mountHttp } from './http.ts';
import { createMetrics } from './metrics.ts';
import { MonitorFeed } from './monitor/feed.ts';
import { mountMonitor } from './monitor/routes.ts';
import { ReplayStore } from './replays.ts';
import { RoomManager } from './rooms.ts';
import type { Logger } from './log.ts';
import { TrustedProxies } from './proxy.ts';
import { takeStateFile } from './statefile.ts';
import { loadStatic } from './static.ts';
import { mountSse } from './sse.ts';
import type { SseHub } from './ssestream.ts';
import { mountWs, roomTopic } from './ws.ts';

export interface RunningServer {
  port: number;
  url: string;
  manager: RoomManager;
  cluster: ClusterNode;
  config: Config;
  drainer: Drainer;
  /** Recorded matches (REPLAY_DIR); null when recording is off. */
  replays: ReplayStore | null;
  /**
   * Drains (what SIGTERM / SIGINT do before exiting): hands every room to another instance
   * of the cluster, or saves it to STATE_FILE; see drain.ts. Resolves when it is done.
   */
  drain(): Promise<DrainReport>;
  /** Stops the server; players of rooms still here are told it is going away. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** First take back the rooms the last drain saved to STATE_FILE (what `npm start` does). */
  restore?: boolean;
  /** POST /api/admin/drain: what to do (main: drain, then exit 0); default: drain and stay up, empty. */
  onDrainRequest?: () => void;
}

/** True when uWebSockets.js loaded its native binding rather than the slow `ws` fallback shim. */
export function uwsIsNative(): boolean {
  const u = uWS as unknown as Record<string, unknown>;
  return typeof u.SSLApp === 'function' && typeof u.getParts === 'function'
    && /\[native code\]/.test(Function.prototype.toString.call(uWS.App));
}

export type { Logger } from './log.ts';

export async function startServer(config: Config, log: Logger = () => {}, opts: StartOptions = {}): Promise<RunningServer> {
  if (!uwsIsNative()) {
    throw new Error('uWebSockets.js native binding not loaded (fallback shim active); refusing to start. '
      + 'Unset UWS_USE_FALLBACK or reinstall on a supported platform (linux x64, Node 20).');
  }
  const cfg: Config = { ...config };
  if (!cfg.secret) {
    cfg.secret = randomBytes(32).toString('base64url');
    log('warn', 'SECRET not set: generated one for this process; tokens will not survive a restart or work across instances');
  }
  const startedAt = performance.now();
  const clock = () => performance.now(); // monotonic ms: ticks, message receipt, durations
  const wallS = () => Date.now() / 1000; // token expiry only
  const tls = cfg.tlsCert !== '';
  if (tls) {
    for (const f of [cfg.tlsCert, cfg.tlsKey]) if (!existsSync(f)) throw new Error(`TLS file not found: ${f}`);
  }
  const app = tls ? uWS.SSLApp({ cert_file_name: cfg.tlsCert, key_file_name: cfg.tlsKey }) : uWS.App();
  const replays = cfg.replayDir !== '' ? new ReplayStore(cfg, log) : null;
  if (replays) await replays.prune();
  const manager = new RoomManager({
    config: cfg, now: clock(), clock, seed: () => randomInt(0, 2 ** 32 - 1),
    replays: replays ? { save: (rec) => replays.save(rec), epoch: () => Date.now() } : undefined,
    // One publish per room per tick: uWS writes the shared snapshot to each subscriber natively.
    channel: (code) => {
      const topic = roomTopic(code);
      return {
        publish: (bytes) => {
          manager.wire.bytesOut += bytes.byteLength * app.numSubscribers(topic); // what uWS writes: one copy per subscriber
          app.publish(topic, bytes, true, false);
          sse.publish(code, bytes); // the room's event streams (sse.ts): base64'd once for all of them
        },
      };
    },
    onError: (room, err) => log('error', `room ${room.code} closed after an error in its tick: ${(err as Error)?.stack ?? err}`),
    onRemoved: (code) => cluster.released(code),
  });
  const timers = new Set<NodeJS.Timeout>();
  const after = (ms: number, fn: () => void) => {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  };
  const cluster: ClusterNode = new ClusterNode({
    cfg, manager, log, wallMs: () => Date.now(), after, boot: randomBytes(8).toString('base64url'),
    newId: () => randomBytes(9).toString('base64url'), pick: (n) => randomInt(0, n),
    proc: () => ({ cpuS: cpuSeconds(), rssMb: Math.round(process.memoryUsage.rss() / 1048576) }),
    now: clock, draining: () => drainer.draining, moving: (code) => drainer.routeOf(code),
  });
  const drainer = new Drainer({ cfg, manager, cluster, log, now: clock, wallMs: () => Date.now(), after });
  const limits = new IpLimits(cfg);
  const { registry, rejected } = createMetrics(manager, cluster, drainer, limits, () => (performance.now() - startedAt) / 1000, () => sse.size);
  const files = loadStatic(cfg.staticDir);
  if (files.size === 0) log('warn', `no built client in ${cfg.staticDir}: run \`npm run build\``);

  const proxies = new TrustedProxies(cfg.trustedProxies);
  const draining = () => drainer.draining;
  const onReject = (status: number) => rejected.inc({ status: String(status) });
  mountWs(app, { cfg, manager, cluster, proxies, limits, now: clock, wallS, draining, onReject });
  const sse: SseHub = mountSse(app, { cfg, manager, cluster, proxies, limits, now: clock, wallS, draining, onReject });
  mountHttp(app, {
    cfg, manager, cluster, files, registry, now: clock, wallS, draining, proxies, limits, uptimeS: () => (performance.now() - startedAt) / 1000,
    replays,
  });
  mountAdmin(app, { cfg, manager, cluster, drainer, onDrain: opts.onDrainRequest ?? (() => void drainer.start()) });
  const feed = new MonitorFeed({ registry, manager, cluster, maxPlayers: cfg.maxPlayersPerRoom, wallMs: () => Date.now() });
  const monitor = mountMonitor(app, { cfg, feed });

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(cfg.host, cfg.port, (s) => (s ? resolve(s) : reject(new Error(`cannot listen on ${cfg.host}:${cfg.port} (in use?)`))));
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  const scheme = tls ? 'https' : 'http';
  const clustered = cfg.redisUrl !== '';
  const wildcard = cfg.host === '0.0.0.0' || cfg.host === '::';
  // The instance's names in the cluster, once the port is known (PORT=0 picks one).
  if (!cfg.instanceId) cfg.instanceId = clustered ? defaultInstanceId(port) : '';
  if (!cfg.publicUrl) {
    cfg.publicUrl = `${scheme}://${wildcard ? (clustered ? hostname() : 'localhost') : cfg.host}:${port}`;
    if (clustered) log('warn', `PUBLIC_URL not set: other instances will send players to ${cfg.publicUrl}`);
  }
  // Before the cluster registration (which claims every room held here), and before any socket is read.
  if (opts.restore && stateFileOf(cfg) !== '') restoreRooms(cfg, manager, clock(), log);
  try {
    await cluster.start();
  } catch (err) {
    uWS.us_listen_socket_close(listenSocket);
    await cluster.stop();
    throw err;
  }
  let beat: NodeJS.Timeout | undefined;
  if (clustered) beat = setInterval(() => cluster.heartbeat(), cfg.clusterHeartbeatS * 1000);
  // The monitor's sample: its chart history is kept whether anyone watches or not (one registry read a second).
  // Event streams quiet for a while get a comment, or uWS and proxies would time them out.
  const sseBeat = setInterval(() => sse.heartbeat(), 1000);
  const sampler = setInterval(() => monitor.tick().catch((err: Error) => log('warn', `monitor: sample failed: ${err.message}`)), 1000);

  // Fixed-step loop: wake when the next tick is due; the accumulator decides how many to run.
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  const loop = () => {
    if (!running) return;
    manager.update(clock());
    timer = setTimeout(loop, manager.wait(clock()));
  };
  loop();

  const host = wildcard ? 'localhost' : cfg.host;
  log('info', `tickwire on ${scheme}://${host}:${port} (${tls ? 'wss' : 'ws'} ${cfg.tickRate} Hz, ${cfg.npcCount} drones a room)`
    + (clustered ? `, instance ${cfg.instanceId} of a cluster, public at ${cfg.publicUrl}` : ''));
  return {
    port,
    url: `${scheme}://${host}:${port}`,
    manager,
    cluster,
    config: cfg,
    drainer,
    replays,
    drain: () => drainer.start(),
    close: async () => {
      running = false;
      clearTimeout(timer);
      clearInterval(beat);
      clearInterval(sampler);
      clearInterval(sseBeat);
      monitor.close();
      for (const room of manager.rooms.values()) room.closeAll(CLOSE_GOING_AWAY, 'server shutting down');
      sse.stop(CLOSE_GOING_AWAY, 'server shutting down');
      uWS.us_listen_socket_close(listenSocket);
      await replays?.flush(); // the recordings those rooms just closed
      await cluster.stop();
      for (const t of timers) clearTimeout(t);
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** Rooms saved by the last drain, back under their codes before anyone can join. */
function restoreRooms(cfg: Config, manager: RoomManager, now: number, log: Logger): void {
  const file = stateFileOf(cfg);
  const read = takeStateFile(file, cfg.tickRate, Date.now());
  if (read.kind === 'set-aside') {
    log('warn', `state file ${file} not restored: ${read.reason}; set aside as ${read.movedTo}`);
  } else if (read.kind === 'loaded') {
    // The players' grace runs from the save: the time the server was down counts.
    const awayMs = Math.max(0, Date.now() - read.saved.savedAt);
    const ago = (awayMs / 1000).toFixed(1);
    if (awayMs > cfg.resumeGraceS * 1000) {
      log('info', `state file ${file} was saved ${ago} s ago, longer than RESUME_GRACE_S (${cfg.resumeGraceS} s): nobody could resume; starting with no rooms`);
      return;
    }
    const r = manager.restore(read.saved.rooms, now, awayMs);
    log('info', `restored ${r.rooms} room(s) with ${r.players} seat(s) from ${file}, saved ${ago} s ago; `
      + `their players have ${(cfg.resumeGraceS - awayMs / 1000).toFixed(1)} s more (RESUME_GRACE_S) to come back`);
  }
}

/** `<hostname>-<port>`, folded to what INSTANCE_ID allows. */
function defaultInstanceId(port: number): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  const suffix = `-${port}`;
  return `${(host || 'tw').slice(0, 32 - suffix.length)}${suffix}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const levels = ['debug', 'info', 'warn', 'error', 'silent'];
  let cfg: Config;
  try {
    cfg = loadConfig(process.env);
  } catch (err) {
    console.error(`tickwire: ${(err as Error).message}`);
    process.exit(2);
  }
  const log: Logger = (level, msg) => {
    if (levels.indexOf(level) >= levels.indexOf(cfg.logLevel)) console[level === 'info' ? 'log' : level](`[${level}] ${msg}`);
  };
  let stop = () => {};
  startServer(cfg, log, { restore: true, onDrainRequest: () => stop() }).then((srv) => {
    let stopping = false;
    stop = () => {
      if (stopping) return;
      stopping = true;
      log('info', 'shutting down: draining');
      srv.drain().then(() => srv.close()).then(() => process.exit(0), (err: Error) => {
        log('error', `shutdown failed: ${err.stack ?? err}`);
        process.exit(1);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }, (err: Error) => {
    console.error(`tickwire: ${err.message}`);
    process.exit(1);
  });
}
