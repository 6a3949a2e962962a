/**
 * One headless spectator (`--spectators N`): a guest token, a socket to the room with
 * `&spectate=1` (either transport), and a NetClient that decodes and checksums every
 * snapshot. It sends only what a spectator may: HELLO on open (over SSE the server ignores
 * it: a spectator's stream is welcomed at once), a PING once a second, and ACK 0 after a
 * snapshot failed to apply (a full one, please; again at most once a second while none
 * comes). Never INPUT or CHAT: the server would close it with CLOSE_SPECTATOR.
 *
 * Its WELCOME must carry playerId 0 (no seat); a room full of players still admits it.
 * Its way in and back (token, socket, REDIRECTs, backoff) is a bot's, connection.ts with
 * `spectate` set, counted apart from the bots (counters.ts `spec*`). A lost connection
 * resumes by delta: HELLO's resumeTick, and over SSE Last-Event-ID, name the newest tick
 * it applied.
 *
 * Clock-free like bot.ts: the worker's timer calls `update(now)`, handlers read `ctx.now()`.
 */
import { NetClient } from '../netcode/client.ts';
import { mulberry32 as rng } from '../netcode/netsim.ts';
import type { BotContext, Deferrable } from './bot.ts';
import { Connection, SPECTATOR_TALLY } from './connection.ts';
import { isRedirect } from './redirect.ts';
import type { BotSocket } from './transport.ts';

const PING_EVERY_MS = 1000;

export class Spectator implements Deferrable {
  readonly net: NetClient;
  private readonly conn: Connection;
  private nextPingAt = 0;
  private lastTick = 0;
  private readonly random: () => number;

  constructor(readonly index: number, readonly room: string, seed: number, private readonly ctx: BotContext) {
    this.random = rng(seed * 1_000_003 + 7_919 * (index + 1)); // apart from the bots' streams
    this.net = new NetClient(ctx.policy.schema, { frames: 4, recycleFrames: true });
    this.conn = new Connection({
      room, ctx, random: this.random, hello: () => this.net.hello(), moving: () => {}, tally: SPECTATOR_TALLY, label: 'spectator: ',
      spectate: { resumeTick: () => this.net.ackTick },
      // A REDIRECT is handled as it comes (its close follows in the same read); the rest after the read burst, as a bot's.
      arrive: (ws, data) => {
        if (isRedirect(data)) this.onMessage(data, this.ctx.now());
        else this.ctx.defer(this, ws, data, this.ctx.now());
      },
    });
  }

  get isLive(): boolean {
    return this.conn.live;
  }

  start(): Promise<void> {
    return this.conn.start(`spec${this.index}`);
  }

  deferred(from: BotSocket, data: Buffer, at: number): void {
    if (this.conn.holds(from)) this.onMessage(data, at);
  }

  private onMessage(data: Buffer, now: number): void {
    const c = this.ctx.counters;
    const ev = this.net.receive(data, now);
    switch (ev.kind) {
      case 'welcome':
        if (ev.playerId !== 0) {
          c.specErrors++;
          this.ctx.note(`spectator WELCOME with playerId ${ev.playerId} (a seat)`);
        }
        this.conn.welcome();
        this.lastTick = 0;
        this.nextPingAt = now + this.random() * PING_EVERY_MS;
        return;
      case 'snapshot':
        if (this.lastTick !== 0 && ev.snap.tick > this.lastTick + 1) c.specMissed += ev.snap.tick - this.lastTick - 1;
        this.lastTick = ev.snap.tick;
        return;
      case 'bad':
        this.ctx.note(`spectator: ${ev.reason}`);
        return;
      case 'redirect':
        this.conn.redirect(ev.url, ev.instance, ev.moved);
        return;
      case 'error':
        c.specErrors++;
        this.ctx.note(`spectator ERROR ${ev.code}: ${ev.reason}`);
        return;
      case 'pong':
        return;
    }
  }

  update(now: number): void {
    if (!this.conn.live) {
      this.conn.update(now);
      return;
    }
    // After a snapshot that failed to apply: ACK 0 (a full one, please), at most once a second (NetClient's rule).
    const full = this.net.fullRequest(now);
    if (full) this.conn.send(full);
    if (now >= this.nextPingAt) {
      this.nextPingAt = Math.max(this.nextPingAt + PING_EVERY_MS, now);
      this.conn.send(this.net.ping(this.ctx.now()));
    }
  }

  stop(): void {
    this.conn.stop();
  }
}
