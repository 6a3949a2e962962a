/**
 * A room's spectators on in-memory links and virtual time (server/watchers.ts and the
 * fan-out's viewer path): they ride the room's one publish once they hold the previous
 * tick, a backed-up one is skipped and then caught up by a private delta, a resuming
 * one continues by delta from the tick it names, and the cap refuses the one too many.
 */
import { describe, expect, it } from 'vitest';
import { BTN_RIGHT } from '../game/sim/constants.ts';
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { CLOSE_ROOM_FULL, EV_WATCHERS, S_SNAPSHOT } from '../netcode/protocol.ts';
import { decodeServer } from '../netcode/codec.ts';
import type { Viewer } from '../server/watchers.ts';
import { ASKS_EVERY_TICK, FakeLink, type Harness as H, Harness, type Player } from './helpers/room.ts';

/** A spectator on a FakeLink: its NetClient, and what reached it privately (not by the channel). */
class Watcher {
  readonly link: FakeLink;
  readonly viewer: Viewer | null;
  privates = 0;
  snapshots = 0;
  /** Each snapshot's baseTick (0 = full). */
  readonly bases: number[] = [];

  /** `net`: a NetClient that watched before (its HELLO names the tick it holds: a resume). */
  constructor(readonly h: H, readonly net = new NetClient(ARENA_SCHEMA)) {
    this.link = new FakeLink((l) => { if (this.viewer) h.room.unwatch(this.viewer); void l; }, h.channel);
    const send = this.link.send.bind(this.link);
    // Sends made by the room to this link directly (the channel calls send too: told apart by `joined` at publish time).
    this.link.send = (b: Uint8Array) => {
      const d = decodeServer(b);
      if (d.ok && d.msg.type === S_SNAPSHOT) {
        this.snapshots++;
        this.bases.push(d.msg.baseTick);
        if (!this.link.joined) this.privates++;
      }
      send(b);
    };
    this.viewer = h.room.watch(this.link, `w${Math.random()}`, h.now);
    if (this.viewer) h.room.receiveWatcher(this.viewer, this.net.hello(), h.now);
    this.drain();
  }

  drain(): void {
    for (const b of this.link.inbox.splice(0)) this.net.receive(b, this.h.now);
  }
}

function play(h: H, p: Player, n: number, watchers: Watcher[]): void {
  for (let i = 0; i < n; i++) {
    p.send(p.net.input({ buttons: BTN_RIGHT, aim: 0 }, p.net.serverTick, h.now).bytes);
    h.ticks(1, [p]);
    for (const w of watchers) w.drain();
  }
}

describe('spectators in a room', () => {
  it('share the publish: after its first snapshot a spectator gets every tick from the channel, and sees what the player sees', () => {
    const h = new Harness();
    const p = h.player('ann');
    const ws = Array.from({ length: 50 }, () => new Watcher(h));
    play(h, p, 30, ws);
    for (const w of ws) {
      expect(w.net.playerId).toBe(0);
      expect(w.snapshots).toBe(30);
      expect(w.privates).toBe(1); // the first, full one
      expect(w.net.stats.desyncs).toBe(0);
      expect([...w.net.replica.entities()].find((e) => e.id === p.net.playerId)?.obj.x).toBe(p.entity()?.x);
    }
    expect(h.channel.size).toBe(51);
    // The player was told how many watch.
    const told = p.events.flatMap((e) => (e.kind === 'snapshot' ? e.snap.events : [])).filter((e) => e[0] === EV_WATCHERS);
    expect(told.at(-1)).toEqual([EV_WATCHERS, 50]);
  });

  it('skips a backed-up spectator, then catches it up with a private delta, off the channel meanwhile', () => {
    const h = new Harness(ASKS_EVERY_TICK);
    const p = h.player('ann');
    const w = new Watcher(h);
    play(h, p, 5, [w]);
    w.link.backlog = 10_000; // past BACKPRESSURE_BYTES
    play(h, p, 5, [w]);
    expect(w.snapshots).toBe(5);
    expect(w.link.joined).toBe(false);
    w.link.backlog = 0;
    play(h, p, 5, [w]);
    expect(w.snapshots).toBe(10);
    expect(w.privates).toBe(2); // the first, and the catch-up delta
    expect(w.link.joined).toBe(true);
    expect(w.net.stats.desyncs + w.net.stats.decodeErrors).toBe(0);
  });

  it('resumes by delta from the tick it holds, or gets a full snapshot when that tick is gone', () => {
    const h = new Harness();
    const p = h.player('ann');
    const first = new Watcher(h);
    play(h, p, 10, [first]);
    const held = first.net.ackTick;
    first.link.close(1006, 'gone');
    play(h, p, 3, []);
    const again = new Watcher(h, first.net);
    play(h, p, 2, [again]);
    expect(again.bases[0]).toBe(held);
    expect(again.net.stats.snapshots).toBe(12);
    expect(again.net.stats.desyncs + again.net.stats.decodeErrors).toBe(0);
    again.link.close(1006, 'gone');
    play(h, p, h.cfg.historyTicks + 5, []);
    const late = new Watcher(h, again.net);
    play(h, p, 1, [late]);
    expect(late.bases[0]).toBe(0); // that tick is out of the history: a full snapshot
    expect(late.net.stats.desyncs + late.net.stats.decodeErrors).toBe(0);
  });

  it('refuses the spectator past MAX_SPECTATORS_PER_ROOM with CLOSE_ROOM_FULL, and a closed one frees its place', () => {
    const h = new Harness({ maxSpectatorsPerRoom: 2 });
    h.player('ann');
    const a = new Watcher(h);
    new Watcher(h);
    const c = new Watcher(h);
    expect(c.viewer).toBeNull();
    expect(c.link.closed?.code).toBe(CLOSE_ROOM_FULL);
    a.link.close(1000, 'bye');
    expect(new Watcher(h).viewer).not.toBeNull();
  });
});
