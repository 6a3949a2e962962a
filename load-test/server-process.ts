/**
 * A fresh tickwire server as a child process on a free loopback port, optionally
 * pinned to one core with `taskset`, for capacity runs. `stop()` always ends it
 * (SIGTERM, then SIGKILL after 3 s); an exit hook kills it if this process dies first.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from '../server/deploy/procs.ts';
import { type Endpoint, endpoint } from './endpoint.ts';
import { fetchHealthz } from './healthz.ts';

export interface ServerProcess {
  endpoint: Endpoint; // ws://127.0.0.1:PORT/ws
  pid: number;
  pinned: string | null; // the taskset CPU list, when pinned
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));


export const hasTaskset = (): boolean => spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/** Pins every thread of this process (and threads it starts later) to `cpus`, e.g. "1-3". */
export function pinSelf(cpus: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

export async function startServerProcess(opts: { env: Record<string, string>; cpus?: string; log?: (s: string) => void }): Promise<ServerProcess> {
  const port = await freePort();
  const env = { ...process.env, LOG_LEVEL: 'warn', STATE_FILE: '', IP_LIMIT_EXEMPT: '127.0.0.0/8,::1', SECRET: randomBytes(24).toString('base64url'), ...opts.env, PORT: String(port), HOST: '127.0.0.1' };
  const node = [process.execPath, '--import', 'tsx', 'server/main.ts'];
  const pinned = opts.cpus && hasTaskset() ? opts.cpus : null;
  const [cmd, ...args] = pinned ? ['taskset', '-c', pinned, ...node] : node;
  const child: ChildProcess = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const kill = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.on('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const ep = endpoint(`ws://127.0.0.1:${port}/ws`);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before answering /healthz`);
    try {
      await fetchHealthz(ep, 1000);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        kill();
        throw new Error(`server did not answer within 20 s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  opts.log?.(`server pid ${child.pid} on ${ep.http}${pinned ? `, pinned to cpu ${pinned}` : ' (not pinned)'}`);
  return {
    endpoint: ep,
    pid: child.pid!,
    pinned,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(kill, 3000);
        await exited;
        clearTimeout(t);
      }
      process.off('exit', kill);
    },
  };
}
