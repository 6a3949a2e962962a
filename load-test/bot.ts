/**
 * One bot: the browser's own NetClient over a connection to its room (connection.ts:
 * token, socket, redirects, reconnects). Once live it sends one INPUT per server tick
 * (the ack of the newest snapshot rides on it), decodes and checksums every snapshot
 * through NetClient, pings once a second, and per scenario chats or drops its socket
 * and resumes with the same token. It counts what it sees: snapshots missed and their
 * intervals, RTT, inputs owed after a stall, and what a MOVE cost.
 *
 * Clock-free: the worker's single timer calls `update(now)`; message handlers read
 * `ctx.now()` (that worker's clock), so all bots of a worker share one time line.
 */
import { NetClient } from '../netcode/client.ts';
import { S_PONG } from '../netcode/protocol.ts';
import { Connection, type LinkContext } from './connection.ts';
import type { Histogram } from './histogram.ts';
import type { Scenario } from './policy.ts';
import { isRedirect } from './redirect.ts';
import { mulberry32 as rng } from '../netcode/netsim.ts';
import type { BotPolicy, Brain } from './policy.ts';
import type { BotSocket } from './transport.ts';

/** What can have a message queued for after the read burst (a bot, a spectator). */
export interface Deferrable {
  deferred(from: BotSocket, data: Buffer, at: number): void;
}

/** What a worker hands its bots (and spectators): the connection's part (LinkContext), and the play's. */
export interface BotContext extends LinkContext {
  /** The game's bot policy (games.ts): its schema and a brain per scenario. */
  policy: BotPolicy;
  scenario: Scenario;
  churnPerS: number;
  chatEveryMs: number;
  rtt: Histogram;
  interval: Histogram;
  /** Moves (MOVE: the room went to another instance): the gap in snapshots each cost, and MOVE → resumed WELCOME. */
  movePause: Histogram;
  moveResume: Histogram;
  /** Queues a message for `to.deferred(from, data, at)` after the current read burst. */
  defer: (to: Deferrable, from: BotSocket, data: Buffer, at: number) => void;
}

const BOT_FRAMES = 4;

export class Bot implements Deferrable {
  /**
   * Four frames, not the browser's 64: hundreds of bots each holding 64 frames (3 s
   * at 20 Hz) promote them all to the old generation, whose collections then stall
   * the worker for 8-15 ms about every second, and every PONG behind them. Four
   * frames die young, and their memory is reused for the next decode (the bot keeps
   * no frame itself). A bot that lags further than that cannot apply a private delta
   * against its old ack: it counts a decode error and asks for a full snapshot.
   */
  readonly net: NetClient;
  private readonly conn: Connection;
  private readonly random: () => number;
  private readonly brain: Brain;
  private period = 0; // ms between inputs (from WELCOME)
  private nextInputAt = 0;
  private nextPingAt = 0;
  private nextChatAt = 0;
  private dropAt = Infinity;
  private lastTick = 0;
  private lastSnapAt = 0;
  /** When the last MOVE came (0: none pending), and the last snapshot before it. */
  private movedAt = 0;
  private snapBeforeMove = 0;
  private firstAfterMove = false;
  private chats = 0;

  constructor(readonly index: number, readonly room: string, seed: number, private readonly ctx: BotContext) {
    this.random = rng(seed * 1_000_003 + index);
    this.net = new NetClient(ctx.policy.schema, { frames: BOT_FRAMES, recycleFrames: true });
    this.brain = ctx.policy.brain(ctx.scenario, this.random);
    this.conn = new Connection({
      room, ctx, random: this.random,
      hello: () => this.net.hello(),
      arrive: (ws, data) => this.onArrival(ws, data),
      moving: () => {
        this.movedAt = this.ctx.now();
        this.snapBeforeMove = this.lastSnapAt;
      },
    });
  }

  get isLive(): boolean {
    return this.conn.live;
  }

  /** The instance whose WELCOME the bot holds ('' on a standalone server). */
  get instance(): string {
    return this.net.instance;
  }

  /** Gets a token, then opens the socket. */
  start(): Promise<void> {
    this.ctx.counters.started++;
    return this.conn.start(`bot${this.index}`);
  }

  /**
   * Arrival: a PONG (msgpack fixarray of 3, then code 18) is timed at once; anything
   * else is queued with its arrival time and decoded after this read burst, so a
   * PONG never waits behind hundreds of other bots' snapshots on this event loop.
   * A REDIRECT is handled at once too, before the close that follows it.
   */
  private onArrival(ws: BotSocket, data: Buffer): void {
    const at = this.ctx.now();
    if ((data[0] === 0x93 && data[1] === S_PONG) || isRedirect(data)) this.onMessage(data, at);
    else this.ctx.defer(this, ws, data, at);
  }

  /**
   * A deferred message, decoded only if its socket is still the bot's: one given up on
   * meanwhile (no WELCOME in time, dropped, redirected) must not make the bot live
   * again without a socket.
   */
  deferred(from: BotSocket, data: Buffer, at: number): void {
    if (this.conn.holds(from)) this.onMessage(data, at);
  }

  /** Decodes one message through NetClient (every message passes here, in arrival order but PONGs). */
  onMessage(data: Buffer, now: number): void {
    const ev = this.net.receive(data, now);
    switch (ev.kind) {
      case 'snapshot': {
        const tick = ev.snap.tick;
        if (this.lastTick !== 0) {
          if (tick > this.lastTick + 1) this.ctx.counters.missed += tick - this.lastTick - 1;
          this.ctx.interval.add(now - this.lastSnapAt);
        }
        this.lastTick = tick;
        this.lastSnapAt = now;
        if (this.firstAfterMove) {
          this.firstAfterMove = false;
          this.ctx.movePause.add(now - this.snapBeforeMove);
        }
        return;
      }
      case 'pong':
        this.ctx.rtt.add(now - ev.clientTime);
        return;
      case 'welcome':
        this.onWelcome(ev.tickRate, ev.resumed, now);
        return;
      case 'redirect':
        this.conn.redirect(ev.url, ev.instance, ev.moved);
        return;
      case 'error':
        this.ctx.counters.errors++;
        this.ctx.note(`ERROR ${ev.code}: ${ev.reason}`);
        return;
      case 'bad':
        this.ctx.note(ev.reason);
        return;
    }
  }

  private onWelcome(tickRate: number, resumed: boolean, now: number): void {
    if (resumed) this.ctx.counters.resumed++;
    if (this.movedAt > 0) {
      if (resumed) this.ctx.moveResume.add(now - this.movedAt);
      this.firstAfterMove = resumed;
      this.movedAt = 0;
    }
    this.conn.welcome();
    this.lastTick = 0;
    this.period = 1000 / tickRate;
    this.nextInputAt = now; // the first input goes out on the next timer step
    this.nextPingAt = now + this.random() * 1000;
    // (Re)started on every WELCOME: a resumed bot does not fire the chats it missed while away.
    if (this.ctx.chatEveryMs > 0) this.nextChatAt = now + this.random() * this.ctx.chatEveryMs;
    if (this.ctx.churnPerS > 0) this.dropAt = now - Math.log(1 - this.random()) * (1000 / this.ctx.churnPerS);
  }

  /** The worker's timer step: at most one input (plus a due ping / chat) per call. */
  update(now: number): void {
    if (!this.conn.live) {
      this.conn.update(now);
      return;
    }
    if (now >= this.nextInputAt) {
      const owed = Math.floor((now - this.nextInputAt) / this.period);
      if (owed > 2) { // backlog clamp: never burst; count what was skipped
        this.ctx.counters.lateInputs += owed;
        this.nextInputAt += owed * this.period;
      }
      this.nextInputAt += this.period;
      const n = this.net;
      const view = Math.max(0, n.serverTick - Math.round(n.tickRate * 0.1)); // ~100 ms interpolation delay
      this.conn.send(n.input(this.brain.next(n.replica.latest, n.playerId, n.tickRate), view, now).bytes);
      this.ctx.counters.inputs++;
    }
    if (now >= this.nextPingAt) {
      this.nextPingAt = Math.max(this.nextPingAt + 1000, now); // no burst after a stall
      // Stamped when it leaves, not with the step's `now`: a bot late in a long step would add the wait to its RTT.
      this.conn.send(this.net.ping(this.ctx.now()));
    }
    if (this.nextChatAt > 0 && now >= this.nextChatAt) {
      this.nextChatAt = Math.max(this.nextChatAt + this.ctx.chatEveryMs, now); // no burst after a stall
      this.conn.send(this.net.chat(`gg from bot${this.index} #${++this.chats}`));
      this.ctx.counters.chats++;
    }
    if (now >= this.dropAt) {
      this.dropAt = Infinity;
      this.conn.drop(); // churn: the socket vanishes without a close frame, then the bot resumes
    }
  }

  /** Closes normally (end of run); nothing is counted as a disconnect. */
  stop(): void {
    this.conn.stop();
  }
}
