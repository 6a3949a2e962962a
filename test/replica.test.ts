/** Replica: applies bodies against held frames, reports desyncs and missing baselines, never throws. */
import { describe, expect, it } from 'vitest';
import { ARENA_SCHEMA, T_NPC, T_PLAYER, T_ROUND } from '../game/sim/netschema.ts';
import { frameChecksum } from '../netcode/checksum.ts';
import { encodeDelta } from '../netcode/delta.ts';
import { checkFrame, type Frame, FrameBuilder, findIndex, framesEqual } from '../netcode/frame.ts';
import { SnapshotHistory } from '../netcode/history.ts';
import { DESYNC, Replica } from '../netcode/replica.ts';

const S = ARENA_SCHEMA;
const builder = new FrameBuilder(S);

/** Tick t: a drone at x = 100 + t and a player whose score is t. */
function frameAt(t: number): Frame {
  builder.begin(t);
  builder.add(T_PLAYER, 9, { x: 50, y: 60, aim: 16384, hp: 100, shield: 1, score: t, kills: 0, deaths: 0 });
  builder.add(T_NPC, 4, { x: 100 + t, y: 200, hp: 40 });
  builder.add(T_ROUND, 0, { number: 2, phase: 0, time: 90, winner: 0 });
  return builder.end();
}

const send = (r: Replica, base: number, t: number) =>
  r.apply(base, t, encodeDelta(S, base ? frameAt(base) : null, frameAt(t)), frameChecksum(frameAt(t)));

describe('replica', () => {
  it('applies a full snapshot, then deltas, and exposes dequantized entities', () => {
    const r = new Replica(S);
    expect(send(r, 0, 1).ok).toBe(true);
    expect(send(r, 1, 2).ok).toBe(true);
    expect(r.latest?.tick).toBe(2);
    expect([...r.entities()]).toEqual([
      { id: 0, type: T_ROUND, typeName: 'round', obj: { number: 2, phase: 0, time: 90, winner: 0 } },
      { id: 4, type: T_NPC, typeName: 'npc', obj: { x: 102, y: 200, hp: 40 } },
      { id: 9, type: T_PLAYER, typeName: 'player', obj: { x: 50, y: 60, aim: 16384, hp: 100, shield: 1, score: 2, kills: 0, deaths: 0, seq: 0, ax: 0, ay: 0 } },
    ]);
  });

  it('applies a delta against an older acked baseline, and a late one without moving latest back', () => {
    const r = new Replica(S);
    send(r, 0, 1);
    send(r, 1, 2);
    send(r, 2, 3);
    const old = send(r, 1, 5); // server only saw the ack of tick 1
    expect(old.ok && framesEqual(old.frame, frameAt(5))).toBe(true);
    expect(send(r, 2, 4).ok).toBe(true); // late
    expect(r.latest?.tick).toBe(5);
    expect(r.frame(4)?.tick).toBe(4);
  });

  it('reports a checksum mismatch as desync and keeps the previous state', () => {
    const r = new Replica(S);
    send(r, 0, 1);
    const res = r.apply(1, 2, encodeDelta(S, frameAt(1), frameAt(2)), frameChecksum(frameAt(2)) ^ 1);
    expect(res).toEqual({ ok: false, error: DESYNC });
    expect(r.latest?.tick).toBe(1);
    expect(r.frame(2)).toBeUndefined();
  });

  it('detects a desync caused by a wrong baseline (server and client disagree on tick 1)', () => {
    const r = new Replica(S);
    send(r, 0, 1);
    // The server believes tick 1 looked like frameAt(3): the drone's -1 u delta applies cleanly to the
    // client's x = 101 but lands on 100, not 102.
    const res = r.apply(1, 2, encodeDelta(S, frameAt(3), frameAt(2)), frameChecksum(frameAt(2)));
    expect(res).toEqual({ ok: false, error: DESYNC });
  });

  it('says so when the baseline left the ring or never came', () => {
    const r = new Replica(S, 4);
    send(r, 0, 1);
    for (let t = 2; t <= 6; t++) expect(send(r, t - 1, t).ok).toBe(true);
    expect(send(r, 1, 7)).toEqual({ ok: false, error: 'baseline gone' });
    expect(send(r, 3, 7).ok).toBe(true);
    expect(r.apply(100, 101, new Uint8Array([0xe0]), 0)).toEqual({ ok: false, error: 'baseline gone' });
    expect(send(r, 0, 2)).toEqual({ ok: false, error: 'too old' }); // would evict a newer frame
  });

  it('rejects nonsense ticks and bodies without throwing, and recovers with a full snapshot after reset', () => {
    const r = new Replica(S);
    send(r, 0, 1);
    expect(r.apply(1, 1, new Uint8Array([0xe0]), 0)).toEqual({ ok: false, error: 'bad tick' });
    expect(r.apply(-1, 2, new Uint8Array(0), 0).ok).toBe(false);
    expect(r.apply(1, 2, null as unknown as Uint8Array, 0)).toEqual({ ok: false, error: 'body is not bytes' });
    expect(r.apply(1, 2, new Uint8Array([0xff, 0xff, 0xff]), 0).ok).toBe(false);
    r.reset();
    expect(r.latest).toBeUndefined();
    expect(send(r, 1, 2)).toEqual({ ok: false, error: 'baseline gone' });
    expect(send(r, 0, 3).ok).toBe(true);
  });
});

describe('replica with recycled frames (the bots)', () => {
  /** Tick t: 1–9 drones, so frames change size. */
  const varied = (t: number): Frame => {
    builder.begin(t);
    for (let i = 0; i < 1 + ((t * 5) % 9); i++) builder.add(T_NPC, 10 + i, { x: 100 + t + i, y: 200, hp: 40 });
    builder.add(T_ROUND, 0, { number: 2, phase: 0, time: 90, winner: 0 });
    return builder.end();
  };
  const sendVaried = (r: Replica, base: number, t: number) =>
    r.apply(base, t, encodeDelta(S, base ? varied(base) : null, varied(t)), frameChecksum(varied(t)));

  it('reuses evicted frames for new decodes without ever touching a frame still in the ring', () => {
    const r = new Replica(S, 4, { recycle: true });
    expect(sendVaried(r, 0, 1).ok).toBe(true);
    const buffers = new Set<ArrayBufferLike>();
    for (let t = 2; t <= 300; t++) {
      const base = t % 5 === 0 ? t - 3 : t - 1; // now and then against an older ack, as after a skip
      const res = sendVaried(r, base, t);
      expect(res.ok).toBe(true);
      if (res.ok) buffers.add(res.frame.values.buffer);
      if (t % 37 === 0) expect(sendVaried(r, t - 1, t + 1).ok).toBe(true); // arrives early...
      for (let k = t - 3; k <= t; k++) {
        const held = r.frame(k);
        if (held) expect(framesEqual(held, varied(k)), `tick ${k} intact after applying ${t}`).toBe(true);
      }
    }
    // 4 in the ring + the pool's spares: the memory of ~300 frames came from a handful of buffers.
    expect(buffers.size).toBeLessThanOrEqual(10);
  });

  it('keeps reusing buffers after frames grow (a room filling up), instead of allocating anew', () => {
    const r = new Replica(S, 4, { recycle: true });
    const sized = (t: number): Frame => {
      builder.begin(t);
      const n = Math.min(60, 1 + t); // grows for 60 ticks, then stays
      for (let i = 0; i < n; i++) builder.add(T_NPC, 10 + i, { x: 100 + t + i, y: 200, hp: 40 });
      return builder.end();
    };
    const apply = (base: number, t: number) =>
      r.apply(base, t, encodeDelta(S, base ? sized(base) : null, sized(t)), frameChecksum(sized(t)));
    expect(apply(0, 1).ok).toBe(true);
    const late = new Set<ArrayBufferLike>();
    for (let t = 2; t <= 300; t++) {
      const res = apply(t - 1, t);
      expect(res.ok).toBe(true);
      if (res.ok && t > 100) late.add(res.frame.values.buffer);
    }
    expect(late.size).toBeLessThanOrEqual(8); // the ring's 4 and the pool's 4, reused for 200 ticks
  });

  it('gives a rejected frame back (desync) and stays usable', () => {
    const r = new Replica(S, 4, { recycle: true });
    sendVaried(r, 0, 1);
    for (let t = 2; t < 20; t++) {
      const bad = r.apply(t - 1, t, encodeDelta(S, varied(t - 1), varied(t)), frameChecksum(varied(t)) ^ 1);
      expect(bad).toEqual({ ok: false, error: DESYNC });
      expect(sendVaried(r, t - 1, t).ok).toBe(true);
      expect(framesEqual(r.latest as Frame, varied(t))).toBe(true);
    }
  });
});

describe('frames, history and checksum (what a replica stores)', () => {
  it('FrameBuilder sorts by id and rejects duplicate ids', () => {
    const f = frameAt(1); // added as 9, 4, 0
    expect([...f.ids]).toEqual([0, 4, 9]);
    expect(checkFrame(S, f)).toBeNull();
    expect([findIndex(f, 9), findIndex(f, 4), findIndex(f, 5)]).toEqual([2, 1, -1]);
    builder.begin(1);
    builder.add(T_NPC, 3, { x: 1, y: 1, hp: 1 });
    builder.add(T_NPC, 3, { x: 2, y: 1, hp: 1 });
    expect(() => builder.end()).toThrow(/duplicate/);
  });

  it('the checksum changes with any id, type or value, not with the tick', () => {
    const f = frameAt(1);
    const base = frameChecksum(f);
    expect(frameChecksum({ ...f, tick: 99 })).toBe(base);
    for (let i = 0; i < f.values.length; i++) {
      const values = f.values.slice();
      values[i] ^= 1;
      expect(frameChecksum({ ...f, values })).not.toBe(base);
    }
    expect(frameChecksum({ ...f, ids: Uint32Array.from([0, 5, 9]) })).not.toBe(base);
    expect(frameChecksum({ ...f, types: Uint8Array.from([0, 1, 1]) })).not.toBe(base);
  });

  it('SnapshotHistory returns a tick only while it is in the ring', () => {
    const h = new SnapshotHistory(4);
    for (let t = 1; t <= 6; t++) h.push(frameAt(t));
    expect(h.get(2)).toBeUndefined();
    expect(h.get(3)?.tick).toBe(3);
    expect(h.latest?.tick).toBe(6);
    expect(h.push(frameAt(2))).toBe(false); // would evict tick 6
    expect(h.get(6)?.tick).toBe(6);
  });
});
