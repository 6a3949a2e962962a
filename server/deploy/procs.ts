/**
 * Child processes of a local cluster (redis-server, instances, nginx): spawned with
 * their output prefixed line by line, stopped with SIGTERM then SIGKILL after a grace,
 * and killed if this process exits first. Readiness is polled: these are other
 * processes, whose only "event" is answering on their port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  readonly running: boolean;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export type LineLog = (line: string) => void;

export function spawnProc(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; log?: LineLog }): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = opts.log;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    if (log) createInterface({ input: stream }).on('line', (l) => log(`[${name}] ${l}`));
    else stream.resume();
  }
  let running = true;
  const onExit = () => { if (running) child.kill('SIGKILL'); };
  process.on('exit', onExit);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running = false;
      process.off('exit', onExit);
      resolve(code);
    });
    child.once('error', (err) => {
      running = false;
      process.off('exit', onExit);
      log?.(`[${name}] cannot start ${cmd}: ${err.message}`);
      resolve(null);
    });
  });
  return {
    name,
    child,
    exited,
    get running() {
      return running;
    },
    stop: async (signal = 'SIGTERM', graceMs = 5000) => {
      if (!running) return exited;
      child.kill(signal);
      const t = setTimeout(() => { if (running) child.kill('SIGKILL'); }, graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A port nobody listens on right now on 127.0.0.1 (a tiny race until the child binds it; fine on one machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Polls `ready()` every `everyMs` until it holds; throws when `timeoutMs` pass or
 * `proc` exits first, saying `what` was awaited.
 */
export async function waitUntil(what: string, ready: () => Promise<boolean>, opts: { proc?: Proc; timeoutMs?: number; everyMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (opts.proc && !opts.proc.running) throw new Error(`${opts.proc.name} exited before ${what}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50));
  }
}

/** GET `url` and parse JSON, or null when it does not answer 2xx within `timeoutMs`. */
export async function getJson<T>(url: string, timeoutMs = 1000): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}
