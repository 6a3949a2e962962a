import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../server/config.ts';
import { RoomManager } from '../server/rooms.ts';

describe('RoomManager (virtual time)', () => {
  it('ticks every room at the tick rate, on staggered phases rather than all at once', () => {
    let now = 0;
    const ticksAt = new Map<string, number[]>();
    const m = new RoomManager({
      config: { ...defaultConfig(), tickRate: 20, roomIdleS: 3600 }, now, clock: () => now, seed: () => 1,
      onTick: (room) => ticksAt.set(room.code, [...(ticksAt.get(room.code) ?? []), now]),
    });
    for (const code of ['AAAAA', 'BBBBB', 'CCCCC', 'DDDDD']) m.getOrCreate(code, 0);
    let batches = 0;
    // One second of ticks for every phase (a room's first tick comes at most one period late).
    for (now = 1; now < 1049; now++) if (m.update(now) > 0) batches++;
    for (const ticks of ticksAt.values()) expect(ticks.length).toBe(20);
    const firstTicks = [...ticksAt.values()].map((t) => t[0]);
    expect(new Set(firstTicks).size).toBe(4); // four different phases
    expect(batches).toBeGreaterThanOrEqual(4 * 19); // wake-ups serve one room at a time, not all four together
  });

  it('with TICK_PHASES=1 ticks every room in the same wake-up', () => {
    let now = 0;
    const m = new RoomManager({ config: { ...defaultConfig(), tickRate: 20, tickPhases: 1, roomIdleS: 3600 }, now, clock: () => now, seed: () => 1 });
    for (const code of ['AAAAA', 'BBBBB', 'CCCCC', 'DDDDD']) m.getOrCreate(code, 0);
    const batches: number[] = [];
    for (now = 1; now < 1000; now++) {
      const ran = m.update(now);
      if (ran > 0) batches.push(ran);
    }
    expect(batches).toEqual(new Array(20).fill(4));
  });

  it('caps the number of rooms', () => {
    const m = new RoomManager({ config: { ...defaultConfig(), maxRooms: 2 }, now: 0, clock: () => 0, seed: () => 1 });
    expect(m.getOrCreate('AAAAA', 0)).not.toBeNull();
    expect(m.getOrCreate('BBBBB', 0)).not.toBeNull();
    expect(m.getOrCreate('CCCCC', 0)).toBeNull();
    expect(m.getOrCreate('AAAAA', 0)).not.toBeNull(); // existing rooms still open
  });
});
