/**
 * Server-side snapshot cost: 500 clients in 10 rooms of 50 at 30 Hz, each room
 * with its own history and DeltaCache. Timed per tick: frame building, history
 * push, per-client baseline lookup, filtering, checksums and encodes (the sim
 * step is not timed). Result = median over ticks of (room time summed) / clients.
 *
 * Ack model (a client's baseline = its last acked tick): 80 % acked the previous
 * tick, 12 % two ticks back, 8 % three; re-drawn every tick (worse for sharing
 * than real clients, whose RTT keeps the age steady). New clients get a full one.
 */
import { ARENA_SCHEMA, worldToFrame } from '../sim/netschema.ts';
import { FrameBuilder } from '../../netcode/frame.ts';
import { SnapshotHistory } from '../../netcode/history.ts';
import type { InterestConfig } from '../../netcode/interest.ts';
import { nextFloat, type Rng } from '../sim/rng.ts';
import { DeltaCache, SentViews } from '../../netcode/snapcache.ts';
import { median, nowUs, Scenario } from './scenario.ts';

export interface ServerResult {
  clients: number;
  rooms: number;
  hz: number;
  interest: string;
  encode_us_per_client_tick: number;
  bodies_per_room_tick: number;
}

interface Room {
  sc: Scenario;
  builder: FrameBuilder;
  history: SnapshotHistory;
  cache: DeltaCache;
  clients: { playerId: number; views: SentViews; lastTick: number }[];
}

export function benchServer(opts: {
  rooms: number;
  perRoom: number;
  npcs: number;
  ticks: number;
  interest: InterestConfig;
  label: string;
}): ServerResult {
  const rng: Rng = { state: 12345 };
  const rooms: Room[] = [];
  for (let r = 0; r < opts.rooms; r++) {
    const sc = new Scenario({ seed: 1000 + r, players: opts.perRoom, npcs: opts.npcs });
    const history = new SnapshotHistory(64);
    rooms.push({
      sc,
      history,
      builder: new FrameBuilder(ARENA_SCHEMA),
      cache: new DeltaCache({ schema: ARENA_SCHEMA, history, interest: opts.interest }),
      clients: sc.world.players.map((p) => ({ playerId: p.id, views: new SentViews(64), lastTick: 0 })),
    });
  }
  const warm = 60;
  const perTick: number[] = [];
  let bodies = 0;
  for (let tick = 1; tick <= warm + opts.ticks; tick++) {
    let us = 0;
    for (const room of rooms) {
      const world = room.sc.step();
      const encodesBefore = room.cache.stats.encodes;
      const t0 = nowUs();
      room.history.push(worldToFrame(room.builder, world, tick));
      room.cache.beginTick(tick);
      let pi = 0;
      for (const c of room.clients) {
        while (world.players[pi].id !== c.playerId) pi++; // players and clients are both in id order
        const p = world.players[pi];
        const u = nextFloat(rng);
        const age = u < 0.8 ? 1 : u < 0.92 ? 2 : 3;
        const acked = c.lastTick === 0 ? 0 : Math.max(0, tick - age);
        const baseView = acked > 0 ? c.views.get(acked) : undefined;
        const curView = room.cache.views.viewKeyFor(p.x, p.y);
        const snap = room.cache.get(baseView === undefined ? 0 : acked, baseView ?? 0, curView);
        c.views.record(tick, curView);
        c.lastTick = snap.tick;
      }
      us += nowUs() - t0;
      if (tick > warm) bodies += room.cache.stats.encodes - encodesBefore;
    }
    if (tick > warm) perTick.push(us / (opts.rooms * opts.perRoom));
  }
  return {
    clients: opts.rooms * opts.perRoom,
    rooms: opts.rooms,
    hz: 30,
    interest: opts.label,
    encode_us_per_client_tick: Math.round(median(perTick) * 1000) / 1000,
    bodies_per_room_tick: Math.round((bodies / (opts.ticks * opts.rooms)) * 10) / 10,
  };
}
