/**
 * A throwaway redis-server for a local cluster or a test: loopback only, on a free
 * port, no persistence (`--save '' --appendonly no`), its files in a temp directory.
 * `restart()` stops it and starts a fresh, empty one on the same port (a Redis
 * restart, as the fault tests need).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, missingLine } from './binaries.ts';
import { freePort, type LineLog, type Proc, spawnProc, waitUntil } from './procs.ts';

export interface RedisServer {
  port: number;
  url: string;
  proc: Proc;
  /** SIGKILL, then a fresh empty server on the same port once `downMs` have passed. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** True when something on 127.0.0.1:`port` answers PING with PONG. */
export function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** redis-server's start-up banner and its advice on kernel settings: noise for a throwaway server. */
const NOISE = /oO0OoO0OoO0Oo|Redis version=|Configuration loaded|Server initialized|overcommit|Running mode=|Ready to accept/;

export async function startRedis(opts: { port?: number; log?: LineLog } = {}): Promise<RedisServer> {
  const outer = opts.log;
  const log = outer ? (line: string) => { if (!NOISE.test(line)) outer(line); } : undefined;
  const bin = findBinary('redis-server');
  if (!bin) throw new Error(missingLine('redis-server'));
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-redis-'));
  const launch = async () => {
    const proc = spawnProc('redis', bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--loglevel', 'warning'], { log });
    await waitUntil(`redis-server on port ${port}`, () => pingRedis(port), { proc, timeoutMs: 10_000, everyMs: 20 });
    return proc;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc: await launch(),
    restart: async (downMs = 0) => {
      await server.proc.stop('SIGKILL');
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      server.proc = await launch();
    },
    stop: async () => {
      await server.proc.stop('SIGTERM', 2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
