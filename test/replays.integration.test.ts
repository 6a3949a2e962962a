/**
 * Replays on a real server: three players over real sockets play a few seconds; an
 * operator closes the room; GET /api/replays lists the match and GET /api/replays/ID
 * serves its file; `npm run replay:verify` (the real CLI) passes on that file, and on a
 * copy with one recorded input flipped it fails, naming that tick. Bad ids and limits
 * get clear 4xx answers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../game/sim/constants.ts';
import { Replay } from '../game/sim/replay.ts';
import { readReplay } from '../game/tools/replay-verify.ts';
import { encodeReplay, type Recording } from '../netcode/replay.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import type { ReplayEntry } from '../server/replays.ts';
import { getToken, TestClient } from './helpers/net.ts';

const ADMIN = 'replay-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'tw-replays-'));
let srv: RunningServer;
let base: string;

beforeAll(async () => {
  srv = await startServer(loadConfig({}, {
    port: 0, host: '127.0.0.1', npcCount: 6, adminToken: ADMIN, stateFile: '', replayDir: dir, replayMinS: 1, replayKeyframeS: 1,
  }));
  base = `http://127.0.0.1:${srv.port}`;
});
afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

const verify = (file: string) => spawnSync(process.execPath, ['--import', 'tsx', 'game/tools/replay-verify.ts', file], { encoding: 'utf8', timeout: 60_000 });

/** A step in the middle where the first player is alive and has one input: its index and the step. */
function flipTarget(rec: Recording): { step: number; input: number } {
  const rp = new Replay(rec);
  for (let s = rec.steps >> 1; s < rec.steps; s++) {
    const p = rp.seek(s).players[0];
    if (!rec.ops.some((o) => o[0] === s) && p && p.hp > 0 && rec.counts[rp.cursor.counts] === 1) return { step: s, input: rp.cursor.inputs };
  }
  throw new Error('no step to flip');
}

describe('replays on a real server', () => {
  let entry: ReplayEntry;
  let file: Buffer;

  it('records a match that /api/replays lists once its room closes', async () => {
    const players = await Promise.all(['Ada', 'Bo', 'Cy'].map(async (n) => new TestClient(`ws://127.0.0.1:${srv.port}/ws?room=REPLY&token=${await getToken(base, n)}`)));
    await Promise.all(players.map((p) => p.until(() => p.net.playerId, 5000, 'welcome')));
    const moves = [BTN_UP, BTN_RIGHT, BTN_DOWN, BTN_LEFT];
    let n = 0;
    const timer = setInterval(() => {
      n++;
      players.forEach((p, i) => {
        p.send(p.net.input({ buttons: moves[((n >> 4) + i) % 4] | (n % 5 === i ? BTN_FIRE : 0), aim: (n * 700 + i * 20000) & 0xffff }, p.net.serverTick, performance.now()).bytes);
      });
    }, 1000 / 30);
    try {
      await players[0].until(() => players[0].net.serverTick >= 90, 10_000, '3 s of play');
    } finally {
      clearInterval(timer);
    }
    const res = await fetch(`${base}/api/admin/close`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ room: 'REPLY' }) });
    expect(res.status).toBe(200);
    await srv.replays!.flush();
    const list = (await (await fetch(`${base}/api/replays`)).json()) as { recording: boolean; total: number; replays: ReplayEntry[] };
    expect(list.recording).toBe(true);
    expect(list.total).toBe(1);
    entry = list.replays[0];
    expect(entry).toMatchObject({ room: 'REPLY', reason: 'closed', tickRate: 30 });
    expect(entry.players.map(([, name]) => name).sort()).toEqual(['Ada', 'Bo', 'Cy']);
    expect(entry.steps).toBeGreaterThanOrEqual(90);
    expect(entry.duration_s).toBeCloseTo(entry.steps / 30, 1);
    const got = await fetch(`${base}/api/replays/${entry.id}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/gzip');
    file = Buffer.from(await got.arrayBuffer());
    expect(file.byteLength).toBe(entry.size);
  }, 30_000);

  it('replay:verify passes on the served file, and names the tick where one flipped input diverges', () => {
    const good = join(dir, 'served.replay');
    writeFileSync(good, file);
    const ok = verify(good);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/: ok: \d+ steps .* every checksum matches/);

    const read = readReplay(file);
    if (!read.ok) throw new Error(read.reason);
    const rec = read.rec;
    const { step, input } = flipTarget(rec);
    const buttons = rec.buttons.slice();
    buttons[input] ^= BTN_UP | BTN_LEFT; // one input, walking elsewhere
    const aims = rec.aims.slice();
    aims[rec.buttons.length + input] ^= 0x40; // and aiming a quarter turn away
    const bad = join(dir, 'flipped.replay');
    writeFileSync(bad, gzipSync(encodeReplay({ ...rec, buttons, aims })));
    const res = verify(bad);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`DIVERGED at tick ${rec.startTick + step + 1} (step ${step} of ${rec.steps})`);
    expect(res.stderr).toMatch(new RegExp(`player ${new Replay(rec).seek(step).players[0].id} (x|y|aim): recorded`));

    writeFileSync(join(dir, 'junk.replay'), 'not a replay');
    const junk = verify(join(dir, 'junk.replay'));
    expect(junk.status).toBe(2);
    expect(junk.stderr).toMatch(/not a replay/);
  }, 60_000);

  it('answers bad ids and limits with 4xx', async () => {
    expect((await fetch(`${base}/api/replays/..%2F..%2Fetc%2Fpasswd`)).status).toBe(400);
    expect((await fetch(`${base}/api/replays/nope-20260101-000000-t0`)).status).toBe(404);
    expect((await fetch(`${base}/api/replays?limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/api/replays?limit=1`)).status).toBe(200);
  });
});
