/**
 * One bot: a guest token, a socket (transport.ts: wire.ts's WebSocket, or SSE + POST) and the browser's own NetClient. It sends
 * one INPUT per server tick (the ack of the newest snapshot rides on it), decodes
 * and checksums every snapshot through NetClient, pings once a second, and per
 * scenario chats or drops its socket and resumes with the same token.
 *
 * In a cluster a join may land on an instance that does not hold the room: the bot
 * follows the REDIRECT at once (redirect.ts) and keeps the owner's endpoint as its
 * target, so a resume goes straight back there. When the target does not take it
 * (refused, closed before WELCOME, nginx's 502), the bot forgets it and goes back to
 * the run's --url endpoint with the usual backoff.
 *
 * Clock-free: the worker's single timer calls `update(now)`; message handlers read
 * `ctx.now()` (that worker's clock), so all bots of a worker share one time line.
 */
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { FINAL_CLOSE_CODES, S_PONG } from '../netcode/protocol.ts';
import type { Counters } from './counters.ts';
import { type Endpoint, httpCall } from './endpoint.ts';
import type { Histogram } from './histogram.ts';
import type { Scenario } from './options.ts';
import { type Brain, makeBrain, rng } from './scenario.ts';
import { isRedirect, joinUrl, MAX_REDIRECTS, redirectTarget } from './redirect.ts';
import { type BotSocket, openSocket, type Transport } from './transport.ts';
import { UnexpectedResponse } from './wire.ts';

/** What can have a message queued for after the read burst (a bot, a spectator). */
export interface Deferrable {
  deferred(from: BotSocket, data: Buffer, at: number): void;
}

export interface BotContext {
  endpoint: Endpoint;
  /** How sockets are opened (--transport); ws when absent. */
  transport?: Transport;
  scenario: Scenario;
  churnPerS: number;
  chatEveryMs: number;
  now: () => number;
  counters: Counters;
  rtt: Histogram;
  interval: Histogram;
  /** Moves (MOVE: the room went to another instance): the gap in snapshots each cost, and MOVE → resumed WELCOME. */
  movePause: Histogram;
  moveResume: Histogram;
  note: (error: string) => void;
  /** Queues a message for `to.deferred(from, data, at)` after the current read burst. */
  defer: (to: Deferrable, from: BotSocket, data: Buffer, at: number) => void;
}

const WELCOME_TIMEOUT_MS = 10_000;
const BOT_FRAMES = 4;
const MAX_RETRIES = 5;

type State = 'idle' | 'connecting' | 'live' | 'waiting' | 'dead' | 'stopped';

export class Bot implements Deferrable {
  /**
   * Four frames, not the browser's 64: hundreds of bots each holding 64 frames (3 s
   * at 20 Hz) promote them all to the old generation, whose collections then stall
   * the worker for 8-15 ms about every second, and every PONG behind them. Four
   * frames die young, and their memory is reused for the next decode (the bot keeps
   * no frame itself). A bot that lags further than that cannot apply a private delta
   * against its old ack: it counts a decode error and asks for a full snapshot.
   */
  readonly net = new NetClient(ARENA_SCHEMA, { frames: BOT_FRAMES, recycleFrames: true });
  private ws: BotSocket | null = null;
  private state: State = 'idle';
  private token = '';
  private readonly random: () => number;
  private readonly brain: Brain;
  private period = 0; // ms between inputs (from WELCOME)
  private nextInputAt = 0;
  private nextPingAt = 0;
  private nextChatAt = 0;
  private dropAt = Infinity;
  private retryAt = 0;
  private retries = 0;
  private deadline = 0;
  private lastTick = 0;
  private lastSnapAt = 0;
  /** When the last MOVE came (0: none pending), and the last snapshot before it. */
  private movedAt = 0;
  private snapBeforeMove = 0;
  private firstAfterMove = false;
  private chats = 0;
  private welcomed = false; // a WELCOME arrived at least once
  /** The room owner's endpoint from the last REDIRECT: where (re)connects go; null = the run's --url. */
  private target: string | null = null;
  private redirectsInRow = 0; // since the last WELCOME

  constructor(readonly index: number, readonly room: string, seed: number, private readonly ctx: BotContext) {
    this.random = rng(seed * 1_000_003 + index);
    this.brain = makeBrain(ctx.scenario, this.random);
  }

  get isLive(): boolean {
    return this.state === 'live';
  }

  /** The instance whose WELCOME the bot holds ('' on a standalone server). */
  get instance(): string {
    return this.net.instance;
  }

  /** Gets a token, then opens the socket. */
  async start(): Promise<void> {
    this.ctx.counters.started++;
    this.state = 'connecting';
    try {
      const res = await httpCall(this.ctx.endpoint, '/api/session', { body: JSON.stringify({ name: `bot${this.index}` }), timeoutMs: 10_000 });
      if (!res.ok) throw new Error(`POST /api/session: ${res.status} ${res.text.slice(0, 120)}`);
      this.token = (JSON.parse(res.text) as { token: string }).token;
    } catch (err) {
      return this.fail((err as Error).message);
    }
    if (this.state === 'connecting') this.open();
  }

  private open(): void {
    this.state = 'connecting';
    this.deadline = this.ctx.now() + WELCOME_TIMEOUT_MS;
    // Each handler checks that its socket is still the bot's: a dropped one may still report.
    const ws: BotSocket = openSocket(this.ctx.transport ?? 'ws', joinUrl(this.target ?? this.ctx.endpoint.ws, this.room, this.token), {
      onOpen: () => { if (ws === this.ws) this.send(this.net.hello()); },
      onMessage: (data) => { if (ws === this.ws) this.onArrival(ws, data); },
      onClose: (code, reason) => { if (ws === this.ws) this.onClose(code, reason); },
      onError: (err) => {
        if (ws !== this.ws) return;
        if (!(err instanceof UnexpectedResponse)) return this.ctx.note(`socket: ${err.message}`);
        this.ws = null; // its onClose(1006) is not a disconnect
        this.refused(`${this.ctx.transport === 'sse' ? 'event stream' : 'upgrade'} refused: HTTP ${err.status}`);
      },
    }, { ca: this.ctx.endpoint.ca });
    this.ws = ws;
  }

  private send(bytes: Uint8Array): void {
    this.ws!.send(bytes);
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
    if (from === this.ws) this.onMessage(data, at);
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
        this.onRedirect(ev.url, ev.instance, ev.moved);
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
    const c = this.ctx.counters;
    if (resumed) c.resumed++;
    if (this.movedAt > 0) {
      if (resumed) this.ctx.moveResume.add(now - this.movedAt);
      this.firstAfterMove = resumed;
      this.movedAt = 0;
    }
    if (!this.welcomed) c.connected++;
    this.welcomed = true;
    c.live++;
    this.state = 'live';
    this.retries = 0;
    this.redirectsInRow = 0;
    this.lastTick = 0;
    this.period = 1000 / tickRate;
    this.nextInputAt = now; // the first input goes out on the next timer step
    this.nextPingAt = now + this.random() * 1000;
    // (Re)started on every WELCOME: a resumed bot does not fire the chats it missed while away.
    if (this.ctx.chatEveryMs > 0) this.nextChatAt = now + this.random() * this.ctx.chatEveryMs;
    if (this.ctx.churnPerS > 0) this.dropAt = now - Math.log(1 - this.random()) * (1000 / this.ctx.churnPerS);
  }

  /**
   * The room lives on `instance`: connect there at once with the same room and token. Not a
   * disconnect and not an error; the server closes this socket (CLOSE_REDIRECT) right after.
   */
  private onRedirect(url: string, instance: string, moved: boolean): void {
    const ws = this.ws;
    if (!ws || (this.state !== 'connecting' && this.state !== 'live')) return;
    this.ws = null; // its close right after is not a refusal
    ws.close(1000, moved ? 'moved' : 'redirected');
    if (this.state === 'live') this.ctx.counters.live--; // a REDIRECT comes instead of WELCOME, a MOVE to a live bot
    this.state = 'connecting';
    let next: string;
    try {
      next = redirectTarget(url);
    } catch (err) {
      this.refused(`REDIRECT to ${instance} not followed: ${(err as Error).message}`);
      return;
    }
    if (++this.redirectsInRow > MAX_REDIRECTS) {
      this.redirectsInRow = 0;
      this.target = null;
      this.attemptFailed(`over ${MAX_REDIRECTS} REDIRECTs in a row without a WELCOME (the last to ${instance})`);
      return;
    }
    if (moved) {
      this.ctx.counters.moved++;
      this.movedAt = this.ctx.now();
      this.snapBeforeMove = this.lastSnapAt;
    } else {
      this.ctx.counters.redirects++;
    }
    this.target = next;
    this.open();
  }

  private onClose(code: number, reason: string): void {
    this.ws = null;
    const why = `${code}${reason ? ` ${reason}` : ''}`;
    if (this.state === 'connecting') {
      this.refused(`closed before WELCOME: ${why}`);
      return;
    }
    if (this.state !== 'live') return; // stopped, dead or dropped on purpose
    this.ctx.counters.live--;
    this.ctx.counters.disconnected++;
    this.ctx.note(`closed ${why}`);
    if (FINAL_CLOSE_CODES.has(code)) {
      this.state = 'dead';
      return;
    }
    this.retry(500 * 2 ** this.retries);
  }

  /**
   * A connection attempt that got no WELCOME. To a redirect target: forget it and try the
   * run's endpoint again after a backoff (that instance may be gone). To the run's endpoint:
   * a first one fails the bot, a reconnect tries again.
   */
  private refused(reason: string): void {
    if (this.target !== null) {
      this.target = null;
      this.attemptFailed(`redirect target: ${reason}`);
    } else if (!this.welcomed) {
      this.fail(reason);
    } else {
      this.attemptFailed(`reconnect: ${reason}`);
    }
  }

  private attemptFailed(reason: string): void {
    this.ctx.counters.errors++;
    this.ctx.note(reason);
    this.retry(500 * 2 ** this.retries);
  }

  private retry(afterMs: number): void {
    if (++this.retries > MAX_RETRIES) {
      this.state = 'dead';
      this.ctx.counters.errors++;
      if (!this.welcomed) this.ctx.counters.failed++; // it never joined (a redirect target kept failing)
      this.ctx.note('gave up reconnecting');
      return;
    }
    this.state = 'waiting';
    this.retryAt = this.ctx.now() + afterMs * (0.5 + this.random());
  }

  private fail(reason: string): void {
    this.state = 'dead';
    this.ctx.counters.failed++;
    this.ctx.counters.errors++;
    this.ctx.note(reason);
  }

  /** The worker's timer step: at most one input (plus a due ping / chat) per call. */
  update(now: number): void {
    if (this.state === 'live') {
      if (now >= this.nextInputAt) {
        const owed = Math.floor((now - this.nextInputAt) / this.period);
        if (owed > 2) { // backlog clamp: never burst; count what was skipped
          this.ctx.counters.lateInputs += owed;
          this.nextInputAt += owed * this.period;
        }
        this.nextInputAt += this.period;
        const n = this.net;
        const view = Math.max(0, n.serverTick - Math.round(n.tickRate * 0.1)); // ~100 ms interpolation delay
        this.send(n.input(this.brain.next(n.replica.latest, n.playerId, n.tickRate), view, now).bytes);
        this.ctx.counters.inputs++;
      }
      if (now >= this.nextPingAt) {
        this.nextPingAt = Math.max(this.nextPingAt + 1000, now); // no burst after a stall
        // Stamped when it leaves, not with the step's `now`: a bot late in a long step would add the wait to its RTT.
        this.send(this.net.ping(this.ctx.now()));
      }
      if (this.nextChatAt > 0 && now >= this.nextChatAt) {
        this.nextChatAt = Math.max(this.nextChatAt + this.ctx.chatEveryMs, now); // no burst after a stall
        this.send(this.net.chat(`gg from bot${this.index} #${++this.chats}`));
        this.ctx.counters.chats++;
      }
      if (now >= this.dropAt) this.drop();
    } else if (this.state === 'waiting' && now >= this.retryAt) {
      this.open();
    } else if (this.state === 'connecting' && this.ws && now > this.deadline) {
      const ws = this.ws;
      this.ws = null;
      ws.terminate();
      this.refused('no WELCOME within 10 s');
    }
  }

  /** Churn: the socket vanishes without a close frame (a lost network), then the bot resumes. */
  private drop(): void {
    const ws = this.ws;
    this.ws = null;
    this.state = 'waiting';
    this.dropAt = Infinity;
    this.ctx.counters.live--;
    this.ctx.counters.dropped++;
    ws?.terminate();
    this.retryAt = this.ctx.now() + 250 + 750 * this.random();
  }

  /** Closes normally (end of run); nothing is counted as a disconnect. */
  stop(): void {
    if (this.state === 'live') this.ctx.counters.live--;
    this.state = 'stopped';
    const ws = this.ws;
    this.ws = null;
    if (ws?.isOpen) ws.close(1000, 'load test over');
    else ws?.terminate();
  }
}
