/** Drives a real Room with in-memory links and NetClients on virtual time: no sockets, no clocks. */
import { ARENA_SCHEMA } from '../../game/sim/netschema.ts';
import { type ClientEvent, NetClient } from '../../netcode/client.ts';
import { type Config, defaultConfig } from '../../server/config.ts';
import type { Member } from '../../server/member.ts';
import { type ReplaySink, Room } from '../../server/room.ts';
import { type Link, MemoryChannel } from '../../server/transport.ts';

/**
 * An in-memory Link. Like a uWS socket, closing it runs the close handler at once
 * and leaves the channel.
 */
export class FakeLink implements Link {
  readonly inbox: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  backlog = 0; // what buffered() reports
  joined = false;
  constructor(
    private readonly onClose: (link: FakeLink) => void = () => {},
    private readonly channel: MemoryChannel | null = null,
  ) {}
  join(on: boolean): void {
    if (this.closed) return;
    this.joined = on;
    this.channel?.member(this, on);
  }
  send(bytes: Uint8Array): void {
    if (!this.closed) this.inbox.push(bytes);
  }
  buffered(): number {
    return this.backlog;
  }
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.channel?.member(this, false);
    this.joined = false;
    this.closed = { code, reason };
    this.onClose(this);
  }
}

export class Player {
  readonly net = new NetClient(ARENA_SCHEMA);
  link = new FakeLink();
  member: Member | null = null;
  readonly events: ClientEvent[] = [];

  constructor(readonly h: Harness, readonly sid: string, readonly name: string) {}

  connect(hello = true): this {
    this.link = new FakeLink((link) => {
      if (this.member) this.h.room.disconnect(this.member, link, this.h.now);
    }, this.h.channel);
    this.member = this.h.room.connect(this.sid, this.name, this.link, this.h.now);
    if (hello) this.send(this.net.hello());
    this.drain();
    return this;
  }

  send(bytes: Uint8Array): void {
    if (this.member) this.h.room.receive(this.member, bytes, this.h.now);
  }

  /** Delivers what the room sent to this player's NetClient. */
  drain(): ClientEvent[] {
    const out = this.link.inbox.splice(0).map((b) => this.net.receive(b, this.h.now));
    this.events.push(...out);
    return out;
  }

  drop(): void {
    if (this.member) this.h.room.disconnect(this.member, this.link, this.h.now);
  }

  entity(id = this.net.playerId): Record<string, number> | undefined {
    for (const e of this.net.replica.entities()) if (e.id === id) return e.obj;
    return undefined;
  }
}

/**
 * Settings for tests that set a FakeLink's `backlog` by hand. The room bounds what a
 * socket holds by what was sent to it and asks the socket only when the bound nears
 * the limit (`seatBackedUp`); a backlog set by hand did not come from sends, so these
 * tests use a limit below the bound's slack, where the room asks every tick.
 */
export const ASKS_EVERY_TICK: Partial<Config> = { backpressureBytes: 1000 };

export class Harness {
  now = 0;
  readonly room: Room;
  readonly cfg: Config;
  readonly period: number;
  /** The room's broadcast channel: what it publishes reaches every FakeLink that joined. */
  readonly channel = new MemoryChannel();

  /** `replays`: where the room's finished recordings go (none by default: nothing is recorded). */
  constructor(overrides: Partial<Config> = {}, replays?: ReplaySink) {
    this.cfg = { ...defaultConfig(), npcCount: 4, secret: 'x', ...overrides };
    this.room = new Room({ code: 'TESTS', config: this.cfg, now: 0, seed: 42, channel: this.channel, replays });
    this.period = 1000 / this.cfg.tickRate;
  }

  player(name: string, sid = name): Player {
    return new Player(this, sid, name).connect();
  }

  /** Advances virtual time by n ticks, stepping the room and delivering to `players`. */
  ticks(n: number, players: Player[] = []): void {
    for (let i = 0; i < n; i++) {
      this.now += this.period;
      this.room.step(this.now);
      for (const p of players) p.drain();
    }
  }
}
