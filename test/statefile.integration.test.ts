/**
 * A standalone server across a restart, with real processes: SIGTERM saves the rooms to
 * STATE_FILE and closes players with CLOSE_RESTARTING; the next process restores them
 * and the same players resume their seats. A file it cannot read is set aside.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_RESTARTING } from '../netcode/protocol.ts';
import { startInstance } from '../server/deploy/instance.ts';
import { freePort, type Proc } from '../server/deploy/procs.ts';
import { decodeSavedRooms, ROOM_STATE_MAGIC, ROOM_STATE_VERSION } from '../server/roomstate.ts';
import { ClusterClient, token } from './helpers/cluster-client.ts';

describe('a standalone restart with STATE_FILE', () => {
  let dir: string;
  let port: number;
  const logs: string[] = [];
  const procs: Proc[] = [];
  const clients: ClusterClient[] = [];

  /** A server process on `port` with the state file in `dir`; resolves once it answers /healthz. */
  const start = async (stateFile: string): Promise<Proc> => {
    const env = { SECRET: 'restart-secret', NPC_COUNT: '3', STATE_FILE: stateFile, REDIS_URL: '' };
    const { proc } = await startInstance({ id: 'srv', port, env, log: (l) => logs.push(l) });
    procs.push(proc);
    return proc;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tickwire-state-'));
    port = await freePort();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of procs) await p.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM saves the room and exits 0; the next process restores it and the player resumes its seat', async () => {
    const file = join(dir, 'rooms.state');
    const first = await start(file);
    const base = `http://127.0.0.1:${port}`;
    const p = new ClusterClient(`ws://127.0.0.1:${port}/ws`, 'SAVED', await token(base, 'Sol'), base);
    clients.push(p);
    await p.until(() => p.live && p.snapshots >= 10, 'Sol playing', 8000);
    const id = p.net.playerId;
    expect(await first.stop('SIGTERM')).toBe(0);
    const saved = decodeSavedRooms(readFileSync(file));
    expect(saved.rooms.map((r) => r.code)).toEqual(['SAVED']);
    expect(saved.rooms[0].seats).toMatchObject([{ name: 'Sol', playerId: id }]);
    const savedTick = saved.rooms[0].world.tick;
    await p.until(() => p.states.some((s) => s.code === CLOSE_RESTARTING), 'the player told the server restarts', 3000);

    await start(file);
    expect(logs.some((l) => /restored 1 room\(s\) with 1 seat\(s\)/.test(l)), logs.join('\n')).toBe(true);
    expect(existsSync(file)).toBe(false); // consumed
    await p.until(() => p.welcomes.length === 2 && p.live, 'Sol back', 10_000);
    expect(p.welcomes[1]).toMatchObject({ resumed: true, playerId: id });
    const before = p.snapshots;
    await p.until(() => p.snapshots > before, 'a snapshot after the resume', 3000);
    expect(p.net.serverTick).toBeGreaterThan(savedTick); // the saved world went on, not a fresh one at tick 0
    expect(p.net.stats.desyncs).toBe(0);
    p.close();
    await procs.at(-1)?.stop('SIGKILL'); // no save: the next test starts clean
  }, 40_000);

  it('sets aside a truncated file and one from a newer version, each with one line, and starts without them', async () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.state', encode({ magic: ROOM_STATE_MAGIC, version: ROOM_STATE_VERSION, savedAt: Date.now(), tickRate: 30, rooms: [] }).subarray(0, 20), /truncated or corrupt/],
      ['future.state', encode({ magic: ROOM_STATE_MAGIC, version: ROOM_STATE_VERSION + 1, savedAt: Date.now(), tickRate: 30, rooms: [] }), /version \d+ is newer than this server reads/],
    ];
    for (const [name, bytes, why] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const from = logs.length;
      const proc = await start(file);
      const said = logs.slice(from).filter((l) => l.includes(`state file ${file} not restored`));
      expect(said, logs.slice(from).join('\n')).toHaveLength(1);
      expect(said[0]).toMatch(why);
      expect(existsSync(file)).toBe(false);
      expect(readdirSync(dir).some((f) => f.startsWith(`${name}.bad-`))).toBe(true);
      await proc.stop('SIGKILL');
    }
  }, 40_000);
});
