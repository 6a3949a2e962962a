/**
 * Replays on disk (REPLAY_DIR): each recording as `<id>.replay` (gzip of the msgpack
 * file, netcode/replay.ts) with `<id>.json` beside it (what /api/replays lists, and
 * the file's size). Both are written to a temporary name and renamed, so a reader
 * never sees half a file, and the listing's entry is written last, so every listed
 * replay has its file. Compression and writes run off the tick (zlib's thread pool,
 * async fs); `flush` waits for those in flight (shutdown). Retention: REPLAY_KEEP
 * files and REPLAY_RETAIN_DAYS, applied after each write and at start.
 *
 * Instances of a cluster may share one REPLAY_DIR: ids carry the room, the time and
 * the tick, and the listing reads the directory, not this process's memory.
 */
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { encodeReplay, type Recording, REPLAY_ID, type ReplaySummary, summaryOf } from '../netcode/replay.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

const gzipAsync = promisify(gzip);

export interface ReplayEntry extends ReplaySummary {
  /** Bytes of the file (compressed). */
  size: number;
  /** Seconds of play. */
  duration_s: number;
}

export class ReplayStore {
  private readonly pending = new Set<Promise<void>>();
  /** Entries read from the directory, by file name, with the mtime they were read at. */
  private readonly cache = new Map<string, { mtimeMs: number; entry: ReplayEntry }>();
  saved = 0;
  failed = 0;
  bytes = 0;

  constructor(private readonly cfg: Pick<Config, 'replayDir' | 'replayKeep' | 'replayRetainDays'>, private readonly log: Logger) {}

  get dir(): string {
    return this.cfg.replayDir;
  }

  /** Compresses and writes `rec` (in the background: the room's tick goes on). */
  save(rec: Recording): void {
    const job = this.write(rec).then(
      async () => {
        await this.prune().catch((err: Error) => this.log('warn', `replays: pruning failed (${err.message})`));
      },
      (err: Error) => {
        this.failed++;
        this.log('warn', `replay ${rec.id}: not written (${err.message})`);
      },
    );
    this.pending.add(job);
    job.finally(() => this.pending.delete(job));
  }

  private async write(rec: Recording): Promise<void> {
    if (!REPLAY_ID.test(rec.id)) throw new Error(`bad replay id ${JSON.stringify(rec.id)}`);
    // The mkdir first: its await lets the tick that ended the match finish before the encode
    // (4-12 ms for a 3-minute match) runs, instead of stalling that tick and every room behind it.
    await mkdir(this.dir, { recursive: true });
    const body = await gzipAsync(encodeReplay(rec), { level: 9 });
    const file = join(this.dir, `${rec.id}.replay`);
    await writeFile(`${file}.tmp`, body);
    await rename(`${file}.tmp`, file);
    const entry: ReplayEntry = { ...summaryOf(rec), size: body.byteLength, duration_s: Math.round((rec.steps / rec.tickRate) * 10) / 10 };
    const meta = join(this.dir, `${rec.id}.json`);
    await writeFile(`${meta}.tmp`, JSON.stringify(entry));
    await rename(`${meta}.tmp`, meta);
    this.saved++;
    this.bytes += body.byteLength;
    this.log('info', `replay ${rec.id}: ${rec.steps} steps, ${rec.players.length} players, ${(body.byteLength / 1024).toFixed(1)} KiB (${rec.reason})`);
  }

  /** Waits for the writes in flight. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Every replay in the directory, newest first. */
  async list(): Promise<ReplayEntry[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ReplayEntry[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      seen.add(name);
      const path = join(this.dir, name);
      try {
        const st = await stat(path);
        const hit = this.cache.get(name);
        if (hit && hit.mtimeMs === st.mtimeMs) {
          out.push(hit.entry);
          continue;
        }
        const entry = JSON.parse(await readFile(path, 'utf8')) as ReplayEntry;
        if (typeof entry.id !== 'string' || !REPLAY_ID.test(entry.id) || typeof entry.endedAt !== 'number') continue;
        this.cache.set(name, { mtimeMs: st.mtimeMs, entry });
        out.push(entry);
      } catch {
        // Deleted meanwhile (another instance pruned it) or not ours: not listed.
      }
    }
    for (const name of this.cache.keys()) if (!seen.has(name)) this.cache.delete(name);
    return out.sort((a, b) => b.endedAt - a.endedAt || (a.id < b.id ? -1 : 1));
  }

  /** The compressed file of replay `id`, or null when there is none. */
  async read(id: string): Promise<Buffer | null> {
    if (!REPLAY_ID.test(id)) return null;
    try {
      return await readFile(join(this.dir, `${id}.replay`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Deletes what REPLAY_KEEP and REPLAY_RETAIN_DAYS no longer allow; returns how many went. */
  async prune(now = Date.now()): Promise<number> {
    const all = await this.list();
    const oldest = now - this.cfg.replayRetainDays * 86_400_000;
    const doomed = all.filter((e, i) => i >= this.cfg.replayKeep || e.endedAt < oldest);
    for (const e of doomed) {
      // The listing entry first: a replay is never listed without its file.
      for (const ext of ['json', 'replay']) await unlink(join(this.dir, `${e.id}.${ext}`)).catch(() => {});
    }
    if (doomed.length > 0) this.log('info', `replays: ${doomed.length} removed (REPLAY_KEEP ${this.cfg.replayKeep}, REPLAY_RETAIN_DAYS ${this.cfg.replayRetainDays})`);
    return doomed.length;
  }
}
