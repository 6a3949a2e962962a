/**
 * Recording and re-simulation on virtual time: a real Room with in-memory players
 * records a match that has joins, a drop whose grace runs out, late bursts of inputs
 * (backlogs, guesses, placements) and shots with lag compensation; the file survives
 * encode/decode; game/sim's Replay re-simulates it checksum for checksum, lands on
 * every keyframe, and a single flipped input is caught at its own tick.
 */
import { describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../game/sim/constants.ts';
import { CHECKED_FIELDS, worldChecksum, worldDiff } from '../game/sim/checksum.ts';
import { Replay } from '../game/sim/replay.ts';
import { decodeReplay, encodeReplay, type Recording, sumAt } from '../netcode/replay.ts';
import { Harness, type Player } from './helpers/room.ts';

const MOVES = [BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP | BTN_LEFT, BTN_DOWN | BTN_RIGHT, 0];

/** Plays a room until its first round ends (virtual time); returns what it recorded. */
function playRound(): { recs: Recording[]; h: Harness } {
  const recs: Recording[] = [];
  let wall = 1_700_000_000_000;
  const h = new Harness({ npcCount: 6, resumeGraceS: 2, replayKeyframeS: 2 }, { save: (r) => recs.push(r), epoch: () => wall });
  const players: Player[] = [h.player('Ada'), h.player('Bo'), h.player('Cy')];
  const held: Uint8Array[] = [];
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let t = 0; recs.length === 0 && t < 8000; t++) {
    if (t === 300) players.push(h.player('Dee')); // joins mid-round
    if (t === 600) players[1].drop(); // Bo drops; his seat goes after the 2 s grace
    for (const [i, p] of players.entries()) {
      if (i === 1 && t >= 600) continue;
      const buttons = MOVES[(rand(50) === 0 ? rand(7) : (t >> 5) + i) % 7] | (rand(4) === 0 ? BTN_FIRE : 0);
      const bytes = p.net.input({ buttons, aim: (t * 300 + i * 9000 + rand(2000)) & 0xffff }, Math.max(0, p.net.serverTick - 3), h.now).bytes;
      // Cy's link stalls for 10 ticks now and then, and what it held arrives at once.
      if (i === 2 && t % 40 >= 30) held.push(bytes);
      else for (const b of [...held.splice(0), bytes]) p.send(b);
    }
    h.ticks(1, players);
    wall += 1000 / 30;
  }
  return { recs, h };
}

describe('the state checksum', () => {
  it('changes with every field the next step reads, and worldDiff names it', () => {
    const { recs } = playRound();
    const rp = new Replay(recs[0]);
    let at = recs[0].steps >> 1;
    while (rp.seek(at).shots.length === 0 && at < recs[0].steps) at++; // a moment with a tracer in the air
    const w = rp.world;
    expect(w.shots.length).toBeGreaterThan(0);
    const base = worldChecksum(w);
    for (const kind of Object.keys(CHECKED_FIELDS) as (keyof typeof CHECKED_FIELDS)[]) {
      for (const f of CHECKED_FIELDS[kind]) {
        const list = (w[kind] as unknown as Record<string, number>[]).map((e) => ({ ...e }));
        list[0][f] += 0.125;
        const changed = { ...w, [kind]: list };
        expect(worldChecksum(changed), `${kind}.${f}`).not.toBe(base);
        expect(worldDiff(w, changed)).toMatch(new RegExp(`^${kind.slice(0, -1)} ${f === 'id' ? `${w[kind][0].id}: recorded, missing` : `${list[0].id} ${f}: recorded`}`));
      }
    }
    for (const f of ['tick', 'rng', 'nextId'] as const) expect(worldChecksum({ ...w, [f]: w[f] + 1 })).not.toBe(base);
    for (const f of ['number', 'phase', 'time', 'winner'] as const) expect(worldChecksum({ ...w, round: { ...w.round, [f]: w.round[f] + 1 } })).not.toBe(base);
    expect(worldDiff(w, w)).toBeNull();
  });
});

describe('replays', () => {
  const { recs } = playRound();

  it('records the round until it ends, with joins, a leave, backlogs and placements', () => {
    expect(recs.length).toBe(1);
    const rec = recs[0];
    expect(rec.reason).toBe('round_end');
    expect(rec.room).toBe('TESTS');
    expect(rec.players.map(([, n]) => n)).toEqual(['Ada', 'Bo', 'Cy', 'Dee']);
    expect(rec.ops.filter((o) => o[1] === 1).length).toBe(4); // four joins
    expect(rec.ops.filter((o) => o[1] === 2).length).toBe(1); // Bo left
    expect(rec.ops.some((o) => o[1] === 3)).toBe(true); // a placement after a stall
    expect(Math.max(...rec.counts)).toBeGreaterThan(1); // a backlog applied in one step
    expect(rec.seen.length).toBeGreaterThan(0); // shots asked where their shooter saw the others
    expect(rec.keyframes.length).toBeGreaterThanOrEqual(Math.floor(rec.steps / 60));
    expect(rec.endedAt - rec.startedAt).toBeGreaterThan(rec.steps * 30);
  });

  it('survives encode and decode, and decode refuses what is not a replay', () => {
    const bytes = encodeReplay(recs[0]);
    const back = decodeReplay(bytes);
    expect(back.ok ? "" : back.reason).toBe("");
    if (!back.ok) return;
    expect(back.rec.steps).toBe(recs[0].steps);
    expect(new Replay(back.rec).verify()).toEqual({ ok: true, steps: recs[0].steps });
    expect(decodeReplay(new Uint8Array([1, 2, 3]))).toMatchObject({ ok: false });
    const bad = decodeReplay(encodeReplay({ ...recs[0], sums: recs[0].sums.slice(4) }));
    expect(bad).toMatchObject({ ok: false, reason: expect.stringMatching(/^sums:/) });
  });

  it('re-simulates to every recorded checksum and lands on every keyframe, seeking either way', () => {
    const rec = recs[0];
    const rp = new Replay(rec);
    for (let i = 0; i < rec.steps; i++) expect(worldChecksum(rp.next())).toBe(sumAt(rec, i));
    for (const k of [...rec.keyframes].reverse()) {
      const world = rp.seek(k.at);
      expect(worldChecksum(world)).toBe(worldChecksum(rp.keyframeAt(k.at)!));
    }
    expect(worldChecksum(rp.seek(rec.steps - 7))).toBe(sumAt(rec, rec.steps - 8));
    // Started from each keyframe (a seek), the steps after it replay exactly too: its shots rewind
    // to ticks before the keyframe, which it keeps.
    let rewound = 0;
    for (const k of rec.keyframes.slice(0, -1)) {
      const from = new Replay(rec);
      from.seek(k.at);
      rewound += k.rewind.length;
      for (let i = k.at; i < Math.min(rec.steps, k.at + 20); i++) expect(worldChecksum(from.next()), `step ${i} after a seek to ${k.at}`).toBe(sumAt(rec, i));
    }
    expect(rewound).toBeGreaterThan(0);
  });

  it('names the tick, entity and field where one flipped input makes it diverge', () => {
    const rec = recs[0];
    const rp = new Replay(rec);
    // A step in the middle with no seat changes, whose first player is alive and has an input.
    let s = rec.steps >> 1;
    for (;; s++) {
      const w = rp.seek(s);
      const p = w.players[0];
      if (!rec.ops.some((o) => o[0] === s) && p.hp > 0 && rec.counts[rp.cursor.counts] === 1) break;
    }
    const target = rp.world.players[0].id;
    const i = rp.cursor.inputs;
    const aims = rec.aims.slice();
    aims[rec.buttons.length + i] ^= 0x40; // the aim's high byte: a quarter turn
    const res = new Replay({ ...rec, aims }).verify();
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.divergence.step).toBe(s);
    expect(res.divergence.tick).toBe(rec.startTick + s + 1);
    expect(res.divergence.diff).toMatch(new RegExp(`^player ${target} aim: recorded \\d+, re-simulated \\d+$`));
  });
});
