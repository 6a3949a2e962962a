/**
 * A local cluster in one command: a redis-server (from PATH, free port, no
 * persistence), N instances and nginx in front on the public port.
 *
 *   npm run cluster -- --instances 3 --port 8080 [--public-host 127.0.0.1] [--quiet]
 *
 * Prints `cluster ready at http://HOST:PORT` once every part answers, and stops
 * everything it started on Ctrl-C or SIGTERM. SIGHUP (`kill -HUP <pid>`) restarts the
 * instances one by one, as a deploy does: each drains (its rooms and players move to
 * the others), exits, and starts again on its port before the next one goes. Settings in the environment (TICK_RATE,
 * MAX_PLAYERS_PER_ROOM, …) reach every instance; SECRET and ADMIN_TOKEN are made up
 * once for the whole cluster when not set. `startCluster` is the same for the tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findBinary, missingLine } from './binaries.ts';
import { type Instance, startInstance } from './instance.ts';
import { type Nginx, startNginx } from './nginx.ts';
import { freePort, getJson, type LineLog, waitUntil } from './procs.ts';
import { type RedisServer, startRedis } from './redis-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ClusterOptions {
  instances: number;
  /** Public port of nginx; 0 = a free one. */
  port: number;
  /** The host players use (PUBLIC_URLs are http://HOST:PORT/i/<id>); nginx listens on all interfaces unless it is loopback. */
  publicHost?: string;
  /** Extra settings for every instance. */
  env?: Record<string, string>;
  clientDir?: string;
  log?: LineLog;
}

export interface RunningCluster {
  url: string;
  port: number;
  redis: RedisServer;
  instances: Instance[];
  nginx: Nginx;
  secret: string;
  adminToken: string;
  runDir: string;
  /** The settings instance `id` runs with (to start it again the same way). */
  envOf(id: string): Record<string, string>;
  /** Starts instance `id` again (it exited) on its port with its settings; resolves once it has registered. */
  start(id: string): Promise<Instance>;
  /** SIGTERM to instance `id` (it drains and exits), then `start(id)`; resolves with its exit code and the new process. */
  restart(id: string): Promise<{ code: number | null; instance: Instance }>;
  /** `restart` of every instance in turn (a rolling deploy); `log` says how each went. */
  rollingRestart(log?: LineLog): Promise<void>;
  stop(): Promise<void>;
}

/** Instance ids a, b, c, …: short, because they show in every redirect URL. */
export const instanceIds = (n: number): string[] => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));

export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  for (const bin of ['redis-server', 'nginx']) if (!findBinary(bin)) throw new Error(missingLine(bin));
  if (!Number.isInteger(o.instances) || o.instances < 1 || o.instances > 26) throw new Error('--instances must be an integer in [1, 26]');
  const host = o.publicHost ?? '127.0.0.1';
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const port = o.port || (await freePort());
  const env = o.env ?? {};
  const secret = env.SECRET ?? process.env.SECRET ?? randomBytes(24).toString('base64url');
  const adminToken = env.ADMIN_TOKEN ?? process.env.ADMIN_TOKEN ?? randomBytes(18).toString('base64url');
  const runDir = mkdtempSync(join(tmpdir(), 'tickwire-cluster-'));
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const p of started.reverse()) await p.stop().catch(() => {});
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    const redis = await startRedis({ log: o.log });
    started.push(redis);
    const ids = instanceIds(o.instances);
    const ports = await Promise.all(ids.map(() => freePort()));
    // Each instance's STATE_FILE (what a drain saves when no other instance takes a room) lives and dies with this
    // cluster; bots on this machine (the load test) are not held to the per-address limits.
    const envOf = (id: string): Record<string, string> => ({
      STATE_FILE: join(runDir, `rooms-${id}.state`), IP_LIMIT_EXEMPT: '127.0.0.0/8,::1',
      ...env, REDIS_URL: redis.url, PUBLIC_URL: `http://${host.includes(':') ? `[${host}]` : host}:${port}/i/${id}`, SECRET: secret,
      ADMIN_TOKEN: adminToken, TRUSTED_PROXIES: '127.0.0.1,::1',
    });
    const instances = await Promise.all(ids.map((id, i) => startInstance({ id, port: ports[i], env: envOf(id), log: o.log })));
    // Stopped by id: a restarted instance is a new process in the same slot.
    const slot = (id: string) => instances.findIndex((i) => i.id === id);
    for (const id of ids) started.push({ stop: () => instances[slot(id)].proc.stop() });
    const start = async (id: string): Promise<Instance> => {
      const k = slot(id);
      if (k < 0) throw new Error(`no instance ${id} in this cluster (${ids.join(', ')})`);
      if (instances[k].proc.running) throw new Error(`instance ${id} is still running`);
      instances[k] = await startInstance({ id, port: instances[k].port, env: envOf(id), log: o.log });
      return instances[k];
    };
    const restart = async (id: string) => {
      const k = slot(id);
      if (k < 0) throw new Error(`no instance ${id} in this cluster (${ids.join(', ')})`);
      // The drain has DRAIN_DEADLINE_S to finish; SIGKILL only well past it.
      const code = await instances[k].proc.stop('SIGTERM', 60_000);
      return { code, instance: await start(id) };
    };
    const clientDir = o.clientDir ?? join(ROOT, 'dist/client');
    if (!existsSync(join(clientDir, 'index.html'))) o.log?.(`no built client in ${clientDir}: run \`npm run build\` (the game page will 404)`);
    const nginx = await startNginx({
      listen: loopback ? `127.0.0.1:${port}` : String(port), clientDir, runDir: join(runDir, 'nginx'),
      instances: instances.map((i) => ({ id: i.id, address: `127.0.0.1:${i.port}` })),
    }, port, o.log);
    started.push(nginx);
    const url = `http://${loopback ? '127.0.0.1' : host}:${port}`;
    // Every part answers through the front: the pool, and each instance by its prefix.
    await waitUntil('the cluster to answer through nginx', async () => {
      const all = await Promise.all([`${url}/healthz`, ...ids.map((id) => `${url}/i/${id}/healthz`)].map((u) => getJson(u)));
      return all.every((h) => h !== null);
    }, { timeoutMs: 10_000 });
    const rollingRestart = async (log: LineLog = () => {}) => {
      for (const id of ids) {
        const t0 = performance.now();
        const { code } = await restart(id);
        log(`cluster: instance ${id} drained (exit ${code ?? 'killed'}) and back in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    };
    return { url, port, redis, instances, nginx, secret, adminToken, runDir, envOf, start, restart, rollingRestart, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const usage = 'usage: npm run cluster -- --instances N --port P [--public-host HOST] [--quiet]';
  let opts: ClusterOptions;
  try {
    const { values: v } = parseArgs({
      options: {
        instances: { type: 'string', default: '3' }, port: { type: 'string', default: '8080' },
        'public-host': { type: 'string', default: '127.0.0.1' }, quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (v.help) throw new Error(usage);
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number, got "${v.port}"`);
    opts = { instances: Number(v.instances), port, publicHost: v['public-host'], log: v.quiet ? undefined : (l) => console.log(l) };
  } catch (err) {
    console.error(`cluster: ${(err as Error).message}${(err as Error).message === usage ? '' : `\n${usage}`}`);
    process.exit(2);
  }
  startCluster(opts).then((c) => {
    console.log(`redis ${c.redis.url}; instances ${c.instances.map((i) => `${i.id} (127.0.0.1:${i.port})`).join(', ')}`);
    console.log(`admin token: ${c.adminToken}  (e.g. curl -H 'authorization: Bearer ${c.adminToken}' -d '{"text":"hi"}' ${c.url}/api/admin/announce)`);
    console.log(`monitor: ${c.url}/monitor#token=${encodeURIComponent(c.adminToken)}  (the page takes the token off the address)`);
    console.log(`cluster ready at ${c.url}`);
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`cluster: ${why}, stopping nginx, ${c.instances.length} instance(s) and redis`);
      c.stop().then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    let rolling = false;
    process.on('SIGHUP', () => {
      if (rolling || stopping) return;
      rolling = true;
      console.log(`cluster: SIGHUP, restarting ${c.instances.length} instance(s) one by one`);
      c.rollingRestart((l) => console.log(l)).then(() => console.log('cluster: rolling restart done'), (err: Error) => {
        console.error(`cluster: rolling restart stopped: ${err.message}`);
      }).finally(() => { rolling = false; });
    });
    for (const i of c.instances) {
      i.proc.exited.then((code) => { if (!stopping && !rolling) console.log(`cluster: instance ${i.id} exited (${code ?? 'killed'}); the others go on`); });
    }
    c.nginx.proc.exited.then(() => stop('nginx exited'));
    c.redis.proc.exited.then(() => { if (!stopping) console.log('cluster: redis-server exited; games go on, instances retry'); });
  }, (err: Error) => {
    console.error(`cluster: ${err.message}`);
    process.exit(1);
  });
}
