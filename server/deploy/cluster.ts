/**
 * A local cluster in one command: a redis-server (from PATH, free port, no
 * persistence), N instances and nginx in front on the public port.
 *
 *   npm run cluster -- --instances 3 --port 8080 [--public-host 127.0.0.1] [--quiet]
 *
 * Prints `cluster ready at http://HOST:PORT` once every part answers, and stops
 * everything it started on Ctrl-C or SIGTERM. Settings in the environment (TICK_RATE,
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
    const envOf = (id: string): Record<string, string> => ({
      ...env, REDIS_URL: redis.url, PUBLIC_URL: `http://${host.includes(':') ? `[${host}]` : host}:${port}/i/${id}`, SECRET: secret,
      ADMIN_TOKEN: adminToken, TRUSTED_PROXIES: '127.0.0.1,::1',
    });
    const instances = await Promise.all(ids.map((id, i) => startInstance({ id, port: ports[i], env: envOf(id), log: o.log })));
    for (const i of instances) started.push({ stop: () => i.proc.stop() });
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
    return { url, port, redis, instances, nginx, secret, adminToken, runDir, envOf, stop: stopAll };
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
    for (const i of c.instances) {
      i.proc.exited.then((code) => { if (!stopping) console.log(`cluster: instance ${i.id} exited (${code ?? 'killed'}); the others go on`); });
    }
    c.nginx.proc.exited.then(() => stop('nginx exited'));
    c.redis.proc.exited.then(() => { if (!stopping) console.log('cluster: redis-server exited; games go on, instances retry'); });
  }, (err: Error) => {
    console.error(`cluster: ${err.message}`);
    process.exit(1);
  });
}
