/**
 * An operator's requests across the cluster (admin.ts): an announcement to every player,
 * a kick, a room closed wherever it runs. Each goes out on the bus to every instance,
 * this one included, and is carried out by each on its own rooms; a kick or a close then
 * waits for the instances' answers (`kicked`, `closed`) for ANSWER_WAIT_MS at most.
 * Without Redis the same calls act on this process's rooms alone.
 *
 * Timers are the caller's: `after(ms, fn)` bounds the wait for the answers.
 */
import type { Logger } from '../log.ts';
import type { RoomManager } from '../rooms.ts';
import { BUS_VERSION, type BusAnswer, type BusMessage, type ClosedRoom, type Kicked, type KickTarget } from './bus.ts';
import { type Directory, Unavailable } from './directory.ts';
import type { RedisLink } from './redis.ts';

export interface AdminBusDeps {
  redis: RedisLink | null;
  manager: RoomManager;
  log: Logger;
  directory: Directory;
  /** This instance's id (read when used). */
  id: () => string;
  after: (ms: number, fn: () => void) => void;
  /** A random request id. */
  newId: () => string;
  /** What happened, for /metrics (the cluster node's counters). */
  counters: { announcements: number; kicks: number; closes: number };
  failed: (op: string, err: unknown) => void;
}

/** Answers of the other instances to a kick or a close are awaited this long at most. */
const ANSWER_WAIT_MS = 1500;

export class AdminBus {
  /** Requests of ours on the bus (kick, close) waiting for the instances' answers, by `req`. */
  private readonly asks = new Map<string, (answer: BusAnswer) => void>();

  constructor(private readonly d: AdminBusDeps) {}

  /** Tells every player of every instance. Resolves to the number of instances reached. */
  async announce(text: string): Promise<number> {
    const redis = this.d.redis;
    if (!redis) {
      this.announceHere(text);
      return 1;
    }
    if (!redis.ready) throw new Unavailable('Redis is unreachable: the announcement cannot reach the other instances');
    return redis.publish(JSON.stringify({ v: BUS_VERSION, type: 'announce', from: this.d.id(), text } satisfies BusMessage)).catch((err: Error) => {
      throw new Unavailable(`Redis did not take the announcement: ${err.message}`);
    });
  }

  /** Kicks whoever matches on every instance; resolves with who was kicked once every live instance answered (or after ANSWER_WAIT_MS). */
  async kick(target: KickTarget, reason: string): Promise<Kicked[]> {
    if (!this.d.redis) return this.kickHere(target, reason);
    const answers = await this.ask('kick', (req) => ({ v: BUS_VERSION, type: 'kick', from: this.d.id(), req, target, reason }));
    return answers.flatMap((a) => (a.type === 'kicked' ? a.kicked : []));
  }

  /** Closes room `code` wherever it runs (CLOSE_ROOM_CLOSED to its players, the room removed); resolves with where it was. */
  async close(code: string, reason: string): Promise<ClosedRoom[]> {
    if (!this.d.redis) return this.closeHere(code, reason);
    const answers = await this.ask('close', (req) => ({ v: BUS_VERSION, type: 'close', from: this.d.id(), req, room: code, reason }));
    return answers.flatMap((a) => (a.type === 'closed' && a.held ? [{ instance: a.from, room: a.room, players: a.players }] : []));
  }

  /**
   * Publishes a request (`what`, for messages) to every instance and gathers their answers:
   * resolves once every live instance answered, or after ANSWER_WAIT_MS with those that did.
   */
  private async ask(what: string, request: (req: string) => BusMessage): Promise<BusAnswer[]> {
    const redis = this.d.redis as RedisLink;
    if (!redis.ready) throw new Unavailable(`Redis is unreachable: the ${what} cannot reach the other instances`);
    // How many answers to wait for: the live instances now, or as last listed when Redis is slow to list them.
    const expected = await this.d.directory.records(0).then((r) => r.length, () => this.d.directory.liveCount);
    const req = this.d.newId();
    return new Promise<BusAnswer[]>((resolve) => {
      const answers: BusAnswer[] = [];
      const done = () => { if (this.asks.delete(req)) resolve(answers); };
      this.asks.set(req, (a) => {
        answers.push(a);
        if (answers.length >= expected) done();
      });
      this.d.after(ANSWER_WAIT_MS, done);
      redis.publish(JSON.stringify(request(req))).catch((err) => { this.d.failed(what, err); done(); });
    });
  }

  /** A bus message that is not a hand-over's: carried out here (and answered), or an answer to a request of ours. */
  onBus(m: BusMessage): void {
    const me = this.d.id();
    switch (m.type) {
      case 'announce':
        this.announceHere(m.text);
        return;
      case 'kick': {
        const kicked = this.kickHere(m.target, m.reason);
        const answer: BusMessage = { v: BUS_VERSION, type: 'kicked', from: me, req: m.req, to: m.from, kicked };
        this.d.redis?.publish(JSON.stringify(answer)).catch((err) => this.d.failed('kick answer', err));
        return;
      }
      case 'close': {
        const [closed] = this.closeHere(m.room, m.reason);
        const answer: BusMessage = {
          v: BUS_VERSION, type: 'closed', from: me, req: m.req, to: m.from, room: m.room, held: !!closed, players: closed?.players ?? 0,
        };
        this.d.redis?.publish(JSON.stringify(answer)).catch((err) => this.d.failed('close answer', err));
        return;
      }
      case 'kicked':
      case 'closed':
        if (m.to === me) this.asks.get(m.req)?.(m);
        return;
      default:
        return;
    }
  }

  private announceHere(text: string): void {
    for (const room of this.d.manager.rooms.values()) room.announce(text);
    this.d.counters.announcements++;
  }

  private kickHere(target: KickTarget, reason: string): Kicked[] {
    const out: Kicked[] = [];
    const me = this.d.id();
    const match = 'sid' in target ? (sid: string) => sid === target.sid : (_sid: string, id: number) => id === target.id;
    for (const room of this.d.manager.rooms.values()) {
      if ('room' in target && room.code !== target.room) continue;
      for (const k of room.kick(match, reason)) out.push({ instance: me, room: room.code, id: k.id, name: k.name });
    }
    this.d.counters.kicks += out.length;
    if (out.length) this.d.log('info', `admin: kicked ${out.map((k) => `${k.name} (${k.room}#${k.id})`).join(', ')}: ${reason}`);
    return out;
  }

  private closeHere(code: string, reason: string): ClosedRoom[] {
    const room = this.d.manager.get(code);
    if (!room) return [];
    const players = room.close(reason);
    this.d.manager.remove(room);
    this.d.counters.closes++;
    this.d.log('info', `admin: closed room ${code} (${players} player(s) connected): ${reason}`);
    return [{ instance: this.d.id(), room: code, players }];
  }
}
