/**
 * One tickwire instance as its own process (`node --import tsx server/main.ts`), with
 * its settings in the environment: what `npm run cluster`, the cluster tests and the
 * restart tests run (without REDIS_URL it is a standalone server).
 * Ready once /healthz answers and, in a cluster, says it has registered.
 */
import { fileURLToPath } from 'node:url';
import { freePort, getJson, type LineLog, type Proc, spawnProc, waitUntil } from './procs.ts';

export interface InstanceOptions {
  id: string;
  /** Listen port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** The instance's settings (REDIS_URL, PUBLIC_URL, SECRET, …), on top of this process's environment. */
  env: Record<string, string>;
  log?: LineLog;
  timeoutMs?: number;
  /** How often /healthz is asked while it starts (default 50 ms). */
  pollMs?: number;
}

export interface Instance {
  id: string;
  port: number;
  /** http://127.0.0.1:PORT, direct (not through nginx). */
  http: string;
  proc: Proc;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Health {
  cluster?: { enabled: boolean; registered: boolean };
}

export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const port = o.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...o.env, INSTANCE_ID: o.id, PORT: String(port), HOST: '127.0.0.1' };
  const proc = spawnProc(o.id, process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, log: o.log });
  const http = `http://127.0.0.1:${port}`;
  const clustered = Boolean(env.REDIS_URL);
  await waitUntil(`instance ${o.id} to answer /healthz${clustered ? ' registered' : ''}`, async () => {
    const h = await getJson<Health>(`${http}/healthz`);
    return h !== null && (!clustered || h.cluster?.registered === true);
  }, { proc, timeoutMs: o.timeoutMs ?? 30_000, everyMs: o.pollMs });
  return { id: o.id, port, http, proc };
}
