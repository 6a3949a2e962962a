/**
 * A bot's way into its room and back: the guest token, the socket (transport.ts: wire.ts's
 * WebSocket, or SSE + POST), the WELCOME deadline, REDIRECTs and MOVEs followed, reconnects
 * with backoff, and when to give up. It holds the bot's state (connecting, live, waiting
 * between attempts, dead, stopped); what a live bot plays and measures is bot.ts's.
 *
 * In a cluster a join may land on an instance that does not hold the room: the bot
 * follows the REDIRECT at once (redirect.ts) and keeps the owner's endpoint as its
 * target, so a resume goes straight back there. When the target does not take it
 * (refused, closed before WELCOME, nginx's 502), the bot forgets it and goes back to
 * the run's --url endpoint with the usual backoff.
 *
 * A spectator (spectator.ts) goes the same way with `spectate` set: `&spectate=1` on the
 * URL, its resume tick as Last-Event-ID over SSE, and its own counters (`SPECTATOR_TALLY`).
 *
 * Clock-free: `update(now)` is the worker's timer step; handlers read `ctx.now()`.
 */
import { FINAL_CLOSE_CODES } from '../netcode/protocol.ts';
import type { Counters } from './counters.ts';
import { type Endpoint, httpCall } from './endpoint.ts';
import { joinUrl, MAX_REDIRECTS, redirectTarget } from './redirect.ts';
import { type BotSocket, openSocket, type Transport } from './transport.ts';
import { UnexpectedResponse } from './wire.ts';

/** What a connection reads of its worker's context (a BotContext has all of it). */
export interface LinkContext {
  endpoint: Endpoint;
  /** How sockets are opened (--transport); ws when absent. */
  transport?: Transport;
  now: () => number;
  counters: Counters;
  note: (error: string) => void;
}

type Count = keyof Counters;

/** Which counters a connection's events go to (a bot's, or a spectator's kept apart); null: not counted. */
export interface Tally {
  connected: Count;
  live: Count;
  disconnected: Count;
  failed: Count;
  errors: Count;
  redirects: Count | null;
  moved: Count | null;
  dropped: Count | null;
}

export const BOT_TALLY: Tally = {
  connected: 'connected', live: 'live', disconnected: 'disconnected', failed: 'failed', errors: 'errors', redirects: 'redirects',
  moved: 'moved', dropped: 'dropped',
};

/** A spectator's: the bots' figures stay the bots' alone. */
export const SPECTATOR_TALLY: Tally = {
  connected: 'specConnected', live: 'specLive', disconnected: 'specDisconnected', failed: 'specFailed', errors: 'specErrors',
  redirects: null, moved: null, dropped: null,
};

export interface ConnectionOptions {
  room: string;
  ctx: LinkContext;
  /** The bot's seeded random (retry jitter draws from the same stream as its play). */
  random: () => number;
  /** The HELLO to send once a socket opens. */
  hello: () => Uint8Array;
  /** Every message of the socket the connection holds, as it arrives. */
  arrive: (ws: BotSocket, data: Buffer) => void;
  /** A MOVE is being followed (the room went to another instance). */
  moving: () => void;
  /** Watch instead of play: `&spectate=1`, and `resumeTick()` as Last-Event-ID over SSE. */
  spectate?: { resumeTick: () => number };
  /** Where its events are counted (default BOT_TALLY). */
  tally?: Tally;
  /** Put before each note (e.g. 'spectator: '). */
  label?: string;
}

const WELCOME_TIMEOUT_MS = 10_000;
const MAX_RETRIES = 5;

type State = 'idle' | 'connecting' | 'live' | 'waiting' | 'dead' | 'stopped';

export class Connection {
  private ws: BotSocket | null = null;
  private state: State = 'idle';
  private token = '';
  private retryAt = 0;
  private retries = 0;
  private deadline = 0;
  private welcomed = false; // a WELCOME arrived at least once
  /** The room owner's endpoint from the last REDIRECT: where (re)connects go; null = the run's --url. */
  private target: string | null = null;
  private redirectsInRow = 0; // since the last WELCOME

  private readonly t: Tally;

  constructor(private readonly o: ConnectionOptions) {
    this.t = o.tally ?? BOT_TALLY;
  }

  private count(k: Count | null, by = 1): void {
    if (k) this.o.ctx.counters[k] += by;
  }

  private note(text: string): void {
    this.o.ctx.note(`${this.o.label ?? ''}${text}`);
  }

  get live(): boolean {
    return this.state === 'live';
  }

  /** `ws` is still the socket of this connection (one given up on may still report). */
  holds(ws: BotSocket): boolean {
    return ws === this.ws;
  }

  send(bytes: Uint8Array): void {
    this.ws!.send(bytes);
  }

  /** Gets a token (as player `name`), then opens the socket. */
  async start(name: string): Promise<void> {
    const ctx = this.o.ctx;
    this.state = 'connecting';
    try {
      const res = await httpCall(ctx.endpoint, '/api/session', { body: JSON.stringify({ name }), timeoutMs: 10_000 });
      if (!res.ok) throw new Error(`POST /api/session: ${res.status} ${res.text.slice(0, 120)}`);
      this.token = (JSON.parse(res.text) as { token: string }).token;
    } catch (err) {
      return this.fail((err as Error).message);
    }
    if (this.state === 'connecting') this.open();
  }

  private open(): void {
    const ctx = this.o.ctx;
    this.state = 'connecting';
    this.deadline = ctx.now() + WELCOME_TIMEOUT_MS;
    // Each handler checks that its socket is still the bot's: a dropped one may still report.
    const spectate = this.o.spectate;
    const url = joinUrl(this.target ?? ctx.endpoint.ws, this.o.room, this.token) + (spectate ? '&spectate=1' : '');
    const held = spectate?.resumeTick() ?? 0;
    const ws: BotSocket = openSocket(ctx.transport ?? 'ws', url, {
      onOpen: () => { if (ws === this.ws) this.send(this.o.hello()); },
      onMessage: (data) => { if (ws === this.ws) this.o.arrive(ws, data); },
      onClose: (code, reason) => { if (ws === this.ws) this.onClose(code, reason); },
      onError: (err) => {
        if (ws !== this.ws) return;
        if (!(err instanceof UnexpectedResponse)) return this.note(`socket: ${err.message}`);
        this.ws = null; // its onClose(1006) is not a disconnect
        this.refused(`${ctx.transport === 'sse' ? 'event stream' : 'upgrade'} refused: HTTP ${err.status}`);
      },
    }, { ca: ctx.endpoint.ca, lastEventId: held > 0 ? String(held) : undefined });
    this.ws = ws;
  }

  /** A WELCOME: the bot is live (and counted so); the backoff and the redirect count start over. */
  welcome(): void {
    if (!this.welcomed) this.count(this.t.connected);
    this.welcomed = true;
    this.count(this.t.live);
    this.state = 'live';
    this.retries = 0;
    this.redirectsInRow = 0;
  }

  /**
   * The room lives on `instance`: connect there at once with the same room and token. Not a
   * disconnect and not an error; the server closes this socket (CLOSE_REDIRECT) right after.
   */
  redirect(url: string, instance: string, moved: boolean): void {
    const ws = this.ws;
    if (!ws || (this.state !== 'connecting' && this.state !== 'live')) return;
    this.ws = null; // its close right after is not a refusal
    ws.close(1000, moved ? 'moved' : 'redirected');
    if (this.state === 'live') this.count(this.t.live, -1); // a REDIRECT comes instead of WELCOME, a MOVE to a live bot
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
      this.count(this.t.moved);
      this.o.moving();
    } else {
      this.count(this.t.redirects);
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
    this.count(this.t.live, -1);
    this.count(this.t.disconnected);
    this.note(`closed ${why}`);
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
    this.count(this.t.errors);
    this.note(reason);
    this.retry(500 * 2 ** this.retries);
  }

  private retry(afterMs: number): void {
    if (++this.retries > MAX_RETRIES) {
      this.state = 'dead';
      this.count(this.t.errors);
      if (!this.welcomed) this.count(this.t.failed); // it never joined (a redirect target kept failing)
      this.note('gave up reconnecting');
      return;
    }
    this.state = 'waiting';
    this.retryAt = this.o.ctx.now() + afterMs * (0.5 + this.o.random());
  }

  private fail(reason: string): void {
    this.state = 'dead';
    this.count(this.t.failed);
    this.count(this.t.errors);
    this.note(reason);
  }

  /** The timer step while not live: the next attempt once its backoff is over, or an attempt given up at its WELCOME deadline. */
  update(now: number): void {
    if (this.state === 'waiting' && now >= this.retryAt) {
      this.open();
    } else if (this.state === 'connecting' && this.ws && now > this.deadline) {
      const ws = this.ws;
      this.ws = null;
      ws.terminate();
      this.refused('no WELCOME within 10 s');
    }
  }

  /** Churn: the socket vanishes without a close frame (a lost network), then the bot resumes. */
  drop(): void {
    const ws = this.ws;
    this.ws = null;
    this.state = 'waiting';
    this.count(this.t.live, -1);
    this.count(this.t.dropped);
    ws?.terminate();
    this.retryAt = this.o.ctx.now() + 250 + 750 * this.o.random();
  }

  /** Closes normally (end of run); nothing is counted as a disconnect. */
  stop(): void {
    if (this.state === 'live') this.count(this.t.live, -1);
    this.state = 'stopped';
    const ws = this.ws;
    this.ws = null;
    if (ws?.isOpen) ws.close(1000, 'load test over');
    else ws?.terminate();
  }
}
