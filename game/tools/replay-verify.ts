/**
 * npm run replay:verify -- FILE [FILE…]
 *
 * Re-simulates each recorded match from its inputs with game/sim and compares every
 * recorded checksum. Exit 0: all match. Exit 1: a replay diverged; the line names the
 * first tick that differs and the entity and field (at the first keyframe from there).
 * Exit 2: a file could not be read or is not a replay. FILE is a `.replay` as the
 * server writes it (gzip) or as GET /api/replays/ID serves it, or its msgpack unpacked.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Replay } from '../sim/replay.ts';
import { decodeReplay, type Recording } from '../../netcode/replay.ts';

export type Verdict = { code: 0 | 1 | 2; line: string };

/** The recording in a file's bytes (gzip or not), or why it is not one. */
export function readReplay(bytes: Uint8Array): { ok: true; rec: Recording } | { ok: false; reason: string } {
  let raw = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: 256 << 20 });
    } catch (err) {
      return { ok: false, reason: `bad gzip: ${(err as Error).message}` };
    }
  }
  return decodeReplay(raw);
}

export function verifyFile(path: string): Verdict {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return { code: 2, line: `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  const read = readReplay(bytes);
  if (!read.ok) return { code: 2, line: `${path}: not a replay: ${read.reason}` };
  const rec = read.rec;
  const t0 = performance.now();
  let res: ReturnType<Replay['verify']>;
  try {
    res = new Replay(rec).verify();
  } catch (err) {
    return { code: 1, line: `${path}: DIVERGED: ${(err as Error).message}` };
  }
  const ms = performance.now() - t0;
  const span = `ticks ${rec.startTick + 1}-${rec.startTick + rec.steps}`;
  if (res.ok) {
    return {
      code: 0,
      line: `${path}: ok: ${rec.steps} steps (${(rec.steps / rec.tickRate).toFixed(1)} s, ${span}, ${rec.players.length} players) `
        + `re-simulated in ${ms.toFixed(0)} ms; every checksum matches`,
    };
  }
  const d = res.divergence;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const where = d.diff ? `; ${d.diffTick === d.tick ? 'there' : `first difference at keyframe tick ${d.diffTick}`}: ${d.diff}` : '';
  return { code: 1, line: `${path}: DIVERGED at tick ${d.tick} (step ${d.step} of ${rec.steps}): checksum recorded ${hex(d.recorded)}, re-simulated ${hex(d.resimulated)}${where}` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = process.argv.slice(2).filter((a) => a !== '--');
  if (files.length === 0 || files.includes('--help')) {
    console.error('usage: npm run replay:verify -- FILE [FILE…]   (replays are in REPLAY_DIR, default data/replays)');
    process.exit(2);
  }
  let code = 0;
  for (const f of files) {
    const v = verifyFile(f);
    (v.code === 0 ? console.log : console.error)(v.line);
    code = Math.max(code, v.code);
  }
  process.exit(code);
}
