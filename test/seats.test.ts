/**
 * A room's hot per-seat numbers live in one table (server/seats.ts): the seat rows,
 * input queues that share it, the applied-input log, and a member's record of the
 * snapshots it was sent (shared runs kept as a range).
 */
import { describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../game/sim/index.ts';
import { defaultConfig } from '../server/config.ts';
import { InputQueue } from '../server/inputqueue.ts';
import { queueNumbers } from '../server/inputs.ts';
import { Member } from '../server/member.ts';
import { seatContext } from '../server/seats.ts';
import { SeatTable } from '../server/seats.ts';
import type { Link } from '../server/transport.ts';
import { ALL_VIEW } from '../netcode/interest.ts';

const DT = 1 / 20;
const OPTS = { limit: 6, maxPerTick: 3, reuseTicks: 4 };

describe('SeatTable', () => {
  it('hands out disjoint zeroed rows of whole cache lines, and refuses one seat too many', () => {
    const t = new SeatTable(3, 13);
    expect(t.width).toBe(16);
    const rows = [t.take(), t.take(), t.take()];
    expect(new Set(rows).size).toBe(3);
    for (const r of rows) expect(r % 16).toBe(0);
    expect(() => t.take()).toThrow(/full/);
    t.data.fill(7, rows[1], rows[1] + 16);
    t.release(rows[1]);
    const again = t.take();
    expect(again).toBe(rows[1]);
    expect([...t.data.subarray(again, again + 16)].every((v) => v === 0)).toBe(true);
    expect(t.used).toBe(3);
  });
});

describe('InputQueue in a shared table', () => {
  it('gives the same plans as queues of their own, however the seats interleave, also through `out`', () => {
    const table = new SeatTable(4, 1 + queueNumbers(OPTS.limit));
    const log = { at: [] as number[], count: 0 };
    const shared = [0, 1, 2, 3].map(() => new InputQueue(OPTS, { data: table.data, offset: table.take() + 1 }, log));
    const own = [0, 1, 2, 3].map(() => new InputQueue(OPTS));
    const pos = { x: 400, y: 400 };
    const buttons = [BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_FIRE | BTN_UP, 0];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const seqs = [0, 0, 0, 0];
    const out = { buttons: -1, aim: -1 };
    let singles = 0;
    for (let tick = 1; tick <= 300; tick++) {
      for (let k = 0; k < 6; k++) { // a few messages, seats in random order, some with bursts, some late
        const s = rand(4);
        const n = rand(3);
        for (let j = 0; j < n; j++) {
          const seq = ++seqs[s];
          const b = buttons[rand(buttons.length)];
          const aim = rand(65536);
          expect(shared[s].offer(seq, b, aim, tick * 50 + k)).toBe(own[s].offer(seq, b, aim, tick * 50 + k));
        }
      }
      log.count = 0;
      let applied = 0;
      for (let s = 0; s < 4; s++) {
        const a = shared[s].plan(pos, 1, true, DT, out); // and a single input into the caller's object
        const inputs = (a.one ? [a.one] : a.inputs).map((i) => [i.buttons, i.aim]);
        if (a.one) singles++;
        const setPos = a.setPos && { ...a.setPos };
        const b = own[s].plan(pos, 1, true, DT);
        expect(inputs).toEqual(b.inputs.map((i) => [i.buttons, i.aim]));
        expect(setPos).toEqual(b.setPos);
        expect(shared[s].lastSeq).toBe(own[s].lastSeq);
        expect(shared[s].pending).toBe(own[s].pending);
        applied += own[s].applied.count;
        own[s].applied.count = 0;
      }
      expect(log.count).toBe(applied); // the shared log holds the applied inputs of every seat
    }
    expect(singles).toBeGreaterThan(200); // single inputs went through `out` (295 with this seed)
  });

  it('refuses a store too small for its queue', () => {
    expect(() => new InputQueue(OPTS, { data: new Float64Array(10), offset: 0 })).toThrow(RangeError);
  });

  it('logs the receive time of each real input it applies, not of guesses; its own log holds the last plan', () => {
    const iq = new InputQueue(OPTS);
    const logged = () => {
      iq.plan({ x: 400, y: 400 }, 1, true, DT);
      return iq.applied.at.slice(0, iq.applied.count);
    };
    iq.offer(1, BTN_UP, 0, 100);
    iq.offer(2, BTN_UP, 0, 120);
    expect(logged()).toEqual([100]);
    expect(logged()).toEqual([120]);
    expect(logged()).toEqual([]); // a guess
  });
});

describe('Member', () => {
  const cfg = { ...defaultConfig(), historyTicks: 16 };
  const link: Link = { send() {}, buffered: () => 0, close() {}, join() {} };
  const member = () => new Member('s', 'n', link, 0, cfg, seatContext(cfg, 2));

  it('knows every tick of a shared run without writing each, and keeps the run when it ends', () => {
    const m = member();
    m.sentPrivate(10, 5);
    for (let t = 11; t <= 20; t++) m.sentShared(t);
    expect(m.sentView(10)).toBe(5); // a run of 10 ticks leaves the ring's other slots alone
    expect(m.sentView(11)).toBe(ALL_VIEW);
    for (let t = 21; t <= 40; t++) m.sentShared(t);
    expect(m.sentView(10)).toBeUndefined(); // now tick 26 holds its slot
    expect(m.sentView(11)).toBeUndefined(); // 29 ticks behind: out of a 16-tick ring's reach
    expect(m.sentView(25)).toBe(ALL_VIEW);
    expect(m.sentView(40)).toBe(ALL_VIEW);
    expect(m.sentView(41)).toBeUndefined();
    m.sentPrivate(41, 9); // leaving the channel ends the run: its last 16 ticks (the ring) stay known
    expect(m.sentView(41)).toBe(9);
    expect(m.sentView(40)).toBe(ALL_VIEW);
    expect(m.sentView(26)).toBe(ALL_VIEW);
    expect(m.sentView(25)).toBeUndefined(); // beyond the ring (the run has ended), as for private sends
    expect(m.sentView(11)).toBeUndefined();
  });

  it('during a live run answers as the ring would: run ticks within its reach, older ticks unless a run tick took their slot', () => {
    const m = member(); // ring of 16
    m.sentPrivate(3, 5);
    m.sentPrivate(12, 6);
    for (let t = 20; t <= 30; t++) m.sentShared(t); // slots 4..14 (20 % 16 .. 30 % 16)
    expect(m.sentView(3)).toBe(5); // slot 3: untouched by the run
    expect(m.sentView(12)).toBeUndefined(); // slot 12 = tick 28's
    for (let t = 31; t <= 40; t++) m.sentShared(t);
    expect(m.sentView(24)).toBeUndefined(); // 16 ticks behind the newest: out of the ring's reach
    expect(m.sentView(25)).toBe(ALL_VIEW);
    expect(m.sentView(3)).toBeUndefined(); // the run now covers every slot
    m.endShared(); // and the ring, written, agrees
    expect([m.sentView(3), m.sentView(12), m.sentView(24), m.sentView(25), m.sentView(40)]).toEqual([undefined, undefined, undefined, ALL_VIEW, ALL_VIEW]);
  });

  it('keeps what was sent on an old socket for a resume, and starts the new one from nothing', () => {
    const m = member();
    for (let t = 1; t <= 8; t++) m.sentShared(t);
    m.restartSends();
    expect(m.lastSentTick).toBe(0);
    expect(m.sentView(8)).toBe(ALL_VIEW); // the client may resume from it
    m.sentShared(9); // a new run, which must not reach back over the restart
    expect(m.sentView(9)).toBe(ALL_VIEW);
    expect(m.sentView(5)).toBe(ALL_VIEW);
  });

  it('rate-limits messages through its row, and gives the row back', () => {
    const ctx = seatContext({ ...cfg, msgRatePerS: 10, msgBurst: 3 }, 1);
    const m = new Member('s', 'n', link, 1000, cfg, ctx);
    expect([1, 2, 3, 4].map(() => m.takeMessage(1000))).toEqual([true, true, true, false]);
    expect(m.takeMessage(1100)).toBe(true); // 100 ms earn one at 10 a second
    expect(() => new Member('t', 'n', link, 0, cfg, ctx)).toThrow(/full/);
    m.release();
    expect(new Member('t', 'n', link, 0, cfg, ctx).takeMessage(0)).toBe(true);
  });
});
