/**
 * Interest management and shared encoding: entering/leaving the view arrive as
 * create/remove; filtered delta chains stay exact while viewers move, lose
 * snapshots and acks; clients with equal keys share one body.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARENA_SCHEMA, T_NPC, T_PLAYER, T_ROUND } from '../game/sim/netschema.ts';
import { BitReader } from '../netcode/bits.ts';
import { encodeDelta } from '../netcode/delta.ts';
import { decodeDelta, isDeltaError } from '../netcode/deltadecode.ts';
import { type Frame, FrameBuilder, framesEqual } from '../netcode/frame.ts';
import { SnapshotHistory } from '../netcode/history.ts';
import { ALL_VIEW, filterView, type InterestConfig, ViewCache, viewKeyFor } from '../netcode/interest.ts';
import { Replica } from '../netcode/replica.ts';
import { DeltaCache, SentViews } from '../netcode/snapcache.ts';

const CFG: InterestConfig = { cellSize: 200, radius: 1 };
const S = ARENA_SCHEMA;
const builder = new FrameBuilder(S);
const ROUND = { number: 1, phase: 0, time: 100, winner: 0 };

/** Round + one drone per position (ids 1..n) + a player (id 100) for the viewer. */
function frame(tick: number, drones: { x: number; y: number }[], viewer = { x: 800, y: 600 }): Frame {
  builder.begin(tick);
  builder.add(T_ROUND, 0, ROUND);
  for (const [i, d] of drones.entries()) builder.add(T_NPC, i + 1, { ...d, hp: 40 });
  builder.add(T_PLAYER, 100, { ...viewer, aim: 0, hp: 100, shield: 0, score: 0, kills: 0, deaths: 0 });
  return builder.end();
}

const ids = (f: Frame): number[] => [...f.ids];

/** Removed and created counts of a body (see the layout atop delta.ts). */
function sections(body: Uint8Array): { removed: number; created: number } {
  const r = new BitReader(body);
  const removed = r.readUE();
  for (let i = 0; i < removed; i++) r.readUE(); // index gaps
  return { removed, created: r.readUE() };
}

describe('interest', () => {
  it('view keys name the viewer cell; ALL_VIEW when interest is off', () => {
    expect(viewKeyFor(450, 250, CFG)).toBe(1 * 65536 + 2);
    expect(viewKeyFor(-5, 1e9, CFG)).toBe(65535 * 65536 + 0); // clamped, never negative
    expect(viewKeyFor(450, 250, { cellSize: 200, radius: Infinity })).toBe(ALL_VIEW);
    expect(viewKeyFor(450, 250, { ...CFG, enabled: false })).toBe(ALL_VIEW);
  });

  it('keeps entities within radius cells on both axes, and every type without x/y', () => {
    // viewer cell (4, 3) -> visible cells x 3..5, y 2..4 = [600, 1200) x [400, 1000)
    const f = frame(1, [
      { x: 600, y: 400 },
      { x: 599.875, y: 500 },
      { x: 1199.875, y: 999.875 },
      { x: 1200, y: 500 },
      { x: 700, y: 1000 },
    ]);
    const v = filterView(S, f, viewKeyFor(800, 600, CFG), CFG);
    expect(ids(v)).toEqual([0, 1, 3, 100]);
    expect(filterView(S, f, ALL_VIEW, CFG)).toBe(f);
  });

  it('entering the view arrives as a create, leaving as a remove', () => {
    const key = viewKeyFor(800, 600, CFG);
    const outside = filterView(S, frame(1, [{ x: 100, y: 100 }]), key, CFG);
    const inside = filterView(S, frame(2, [{ x: 700, y: 500 }]), key, CFG);
    const enter = encodeDelta(S, outside, inside);
    expect(sections(enter)).toEqual({ removed: 0, created: 1 });
    const entered = decodeDelta(S, outside, enter, 2);
    expect(!isDeltaError(entered) && framesEqual(entered, inside)).toBe(true);
    const leave = encodeDelta(S, inside, outside);
    expect(sections(leave)).toEqual({ removed: 1, created: 0 });
    // Moving the viewer away has the same effect as moving the drone.
    const walkedAway = filterView(S, frame(3, [{ x: 700, y: 500 }], { x: 1500, y: 1100 }), viewKeyFor(1500, 1100, CFG), CFG);
    expect(ids(walkedAway)).toEqual([0, 100]);
  });

  it('ViewCache filters each (frame, view) once', () => {
    const cache = new ViewCache(S, CFG);
    const f = frame(1, [
      { x: 100, y: 100 },
      { x: 900, y: 700 },
    ]);
    const a = cache.get(f, viewKeyFor(800, 600, CFG));
    expect(cache.get(f, viewKeyFor(850, 650, CFG))).toBe(a); // same cell
    expect(cache.get(f, viewKeyFor(100, 100, CFG))).not.toBe(a);
  });

  const pos = fc.record({
    x: fc.integer({ min: 0, max: 1600 * 8 }).map((q) => q / 8),
    y: fc.integer({ min: 0, max: 1200 * 8 }).map((q) => q / 8),
  });
  const move = fc.record({ dx: fc.integer({ min: -40, max: 40 }), dy: fc.integer({ min: -40, max: 40 }) });
  const tickArb = fc.record({
    moves: fc.array(move, { minLength: 12, maxLength: 12 }),
    viewers: fc.array(
      fc.oneof(
        move,
        pos.map((p) => ({ jump: p })),
      ),
      { minLength: 2, maxLength: 2 },
    ),
    lost: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    ackLost: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  });
  const clamp = (p: { x: number; y: number }): { x: number; y: number } => ({
    x: Math.min(1600, Math.max(0, p.x)),
    y: Math.min(1200, Math.max(0, p.y)),
  });

  it('filtered deltas chain exactly while viewers move, through lost snapshots and acks', () => {
    fc.assert(
      fc.property(
        fc.array(pos, { minLength: 12, maxLength: 12 }),
        fc.array(pos, { minLength: 2, maxLength: 2 }),
        fc.array(tickArb, { maxLength: 30 }),
        (drones0, viewers0, ticks) => {
          let drones = drones0;
          const viewers = viewers0.map((p) => ({ ...p }));
          const history = new SnapshotHistory(8);
          const cache = new DeltaCache({ schema: S, history, interest: CFG });
          const clients = viewers.map(() => ({ replica: new Replica(S, 8), sent: new SentViews(8), acked: 0 }));
          ticks.forEach((step, i) => {
            const tick = i + 1;
            drones = drones.map((d, k) => clamp({ x: d.x + step.moves[k].dx / 8, y: d.y + step.moves[k].dy / 8 }));
            const f = frame(tick, drones);
            history.push(f);
            cache.beginTick(tick);
            const sent = clients.map((c, k) => {
              const m = step.viewers[k];
              viewers[k] = clamp('jump' in m ? m.jump : { x: viewers[k].x + m.dx, y: viewers[k].y + m.dy });
              const view = viewKeyFor(viewers[k].x, viewers[k].y, CFG);
              const baseView = c.acked > 0 ? c.sent.get(c.acked) : undefined;
              const snap = cache.get(baseView === undefined ? 0 : c.acked, baseView ?? 0, view);
              c.sent.record(tick, view);
              if (!step.lost[k]) {
                const r = c.replica.apply(snap.baseTick, tick, snap.body, snap.checksum);
                expect(r.ok && framesEqual(r.frame, filterView(S, f, view, CFG))).toBe(true);
                if (!step.ackLost[k]) c.acked = tick;
              }
              return { snap, key: `${snap.baseTick}/${baseView}/${view}` };
            });
            // Same (baseline, base view, view) means the very same bytes object.
            if (sent[0].key === sent[1].key) expect(sent[0].snap).toBe(sent[1].snap);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('DeltaCache encodes once per distinct key and falls back to full when the baseline left the history', () => {
    const history = new SnapshotHistory(4);
    const cache = new DeltaCache({ schema: S, history });
    for (let t = 1; t <= 10; t++) history.push(frame(t, [{ x: 100 + t, y: 100 }]));
    cache.beginTick(10);
    const a = cache.get(9, ALL_VIEW, ALL_VIEW);
    expect(cache.get(9, ALL_VIEW, ALL_VIEW)).toBe(a);
    expect(a.baseTick).toBe(9);
    const old = cache.get(2, ALL_VIEW, ALL_VIEW);
    expect(old.baseTick).toBe(0);
    expect(cache.get(0, ALL_VIEW, ALL_VIEW)).toBe(old);
    expect(cache.stats).toEqual({ requests: 4, encodes: 2, fulls: 1 });
    cache.beginTick(9); // a new tick drops the memo
    expect(cache.get(8, ALL_VIEW, ALL_VIEW).tick).toBe(9);
    expect(() => cache.beginTick(11)).toThrow(/not in the history/);
  });
});
