/**
 * One headless spectator (`--spectators N`): a guest token, a socket to the room with
 * `&spectate=1` (either transport), and a NetClient that decodes and checksums every
 * snapshot. It sends only what a spectator may: HELLO on open (over SSE the server ignores
 * it: a spectator's stream is welcomed at once), a PING once a second, and ACK 0 after a
 * snapshot failed to apply (a full one, please; again at most once a second while none
 * comes). Never INPUT or CHAT: the server would close it with CLOSE_SPECTATOR.
 *
 * Its WELCOME must carry playerId 0 (no seat); a room full of players still admits it.
 * Counted apart from the bots (counters.ts `spec*`). A lost connection is retried with
 * backoff and resumes by delta: HELLO's resumeTick, and over SSE Last-Event-ID, name the
 * newest tick it applied.
 *
 * Clock-free like bot.ts: the worker's timer calls `update(now)`, handlers read `ctx.now()`.
 */
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { FINAL_CLOSE_CODES } from '../netcode/protocol.ts';
import type { BotContext } from './bot.ts';
import { httpCall } from './endpoint.ts';
import { isRedirect, joinUrl, MAX_REDIRECTS, redirectTarget } from './redirect.ts';
import { rng } from './scenario.ts';
import { type BotSocket, openSocket } from './transport.ts';
import { UnexpectedResponse } from './wire.ts';

const WELCOME_TIMEOUT_MS = 10_000;
const PING_EVERY_MS = 1000;
const ASK_FULL_EVERY_MS = 1000;
const MAX_RETRIES = 5;

type State = 'idle' | 'connecting' | 'live' | 'waiting' | 'dead' | 'stopped';

export class Spectator {
  readonly net = new NetClient(ARENA_SCHEMA, { frames: 4, recycleFrames: true });
  private ws: BotSocket | null = null;
  private state: State = 'idle';
  private token = '';
  private welcomed = false;
  private deadline = 0;
  private nextPingAt = 0;
  private askedFullAt = -Infinity;
  private lastTick = 0;
  private retries = 0;
  private retryAt = 0;
  private redirects = 0;
  private target: string | null = null;
  private readonly random: () => number;

  constructor(readonly index: number, readonly room: string, seed: number, private readonly ctx: BotContext) {
    this.random = rng(seed * 1_000_003 + 7_919 * (index + 1)); // apart from the bots' streams
  }

  get isLive(): boolean {
    return this.state === 'live';
  }

  async start(): Promise<void> {
    this.state = 'connecting';
    try {
      const res = await httpCall(this.ctx.endpoint, '/api/session', { body: JSON.stringify({ name: `spec${this.index}` }), timeoutMs: 10_000 });
      if (!res.ok) throw new Error(`POST /api/session: ${res.status} ${res.text.slice(0, 120)}`);
      this.token = (JSON.parse(res.text) as { token: string }).token;
    } catch (err) {
      return this.fail(`spectator: ${(err as Error).message}`);
    }
    if (this.state === 'connecting') this.open();
  }

  private open(): void {
    this.state = 'connecting';
    this.deadline = this.ctx.now() + WELCOME_TIMEOUT_MS;
    const url = `${joinUrl(this.target ?? this.ctx.endpoint.ws, this.room, this.token)}&spectate=1`;
    const ws: BotSocket = openSocket(this.ctx.transport ?? 'ws', url, {
      onOpen: () => { if (ws === this.ws) ws.send(this.net.hello()); },
      onMessage: (data) => { if (ws === this.ws) this.onArrival(ws, data); },
      onClose: (code, reason) => { if (ws === this.ws) this.onClose(code, reason); },
      onError: (err) => {
        if (ws !== this.ws) return;
        if (!(err instanceof UnexpectedResponse)) return this.ctx.note(`spectator socket: ${err.message}`);
        this.ws = null;
        this.refused(`spectator refused: HTTP ${err.status} ${err.body}`.trim());
      },
    }, { ca: this.ctx.endpoint.ca, lastEventId: this.net.ackTick > 0 ? String(this.net.ackTick) : undefined });
    this.ws = ws;
  }

  /** A REDIRECT is handled as it comes (its close follows in the same read); the rest after the read burst, as a bot's. */
  private onArrival(ws: BotSocket, data: Buffer): void {
    if (isRedirect(data)) this.onMessage(data, this.ctx.now());
    else this.ctx.defer(this, ws, data, this.ctx.now());
  }

  deferred(from: BotSocket, data: Buffer, at: number): void {
    if (from === this.ws) this.onMessage(data, at);
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
        if (!this.welcomed) c.specConnected++;
        this.welcomed = true;
        c.specLive++;
        this.state = 'live';
        this.retries = 0;
        this.redirects = 0;
        this.lastTick = 0;
        this.nextPingAt = now + this.random() * PING_EVERY_MS;
        return;
      case 'snapshot':
        if (this.lastTick !== 0 && ev.snap.tick > this.lastTick + 1) c.specMissed += ev.snap.tick - this.lastTick - 1;
        this.lastTick = ev.snap.tick;
        this.askedFullAt = -Infinity;
        return;
      case 'bad':
        if (/^snapshot /.test(ev.reason) && this.ws && now - this.askedFullAt >= ASK_FULL_EVERY_MS) {
          this.askedFullAt = now;
          this.ws.send(this.net.ack()); // NetClient set ackTick to 0: ACK 0 asks for a full snapshot
        }
        this.ctx.note(`spectator: ${ev.reason}`);
        return;
      case 'redirect':
        this.onRedirect(ev.url);
        return;
      case 'error':
        c.specErrors++;
        this.ctx.note(`spectator ERROR ${ev.code}: ${ev.reason}`);
        return;
      case 'pong':
        return;
    }
  }

  private onRedirect(url: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.close(1000, 'redirected');
    if (this.state === 'live') this.ctx.counters.specLive--;
    try {
      if (++this.redirects > MAX_REDIRECTS) throw new Error(`over ${MAX_REDIRECTS} REDIRECTs in a row`);
      this.target = redirectTarget(url);
    } catch (err) {
      this.target = null;
      this.attemptFailed(`spectator: ${(err as Error).message}`);
      return;
    }
    this.open();
  }

  private onClose(code: number, reason: string): void {
    this.ws = null;
    const why = `${code}${reason ? ` ${reason}` : ''}`;
    if (this.state === 'connecting') {
      this.refused(`spectator closed before WELCOME: ${why}`);
      return;
    }
    if (this.state !== 'live') return;
    const c = this.ctx.counters;
    c.specLive--;
    c.specDisconnected++;
    this.ctx.note(`spectator closed ${why}`);
    if (FINAL_CLOSE_CODES.has(code)) this.state = 'dead';
    else this.retry();
  }

  private refused(reason: string): void {
    if (!this.welcomed && this.target === null) this.fail(reason);
    else {
      this.target = null;
      this.attemptFailed(reason);
    }
  }

  private attemptFailed(reason: string): void {
    this.ctx.counters.specErrors++;
    this.ctx.note(reason);
    this.retry();
  }

  private retry(): void {
    if (++this.retries > MAX_RETRIES) {
      this.state = 'dead';
      if (!this.welcomed) this.ctx.counters.specFailed++;
      this.ctx.note('spectator gave up reconnecting');
      return;
    }
    this.state = 'waiting';
    this.retryAt = this.ctx.now() + 500 * 2 ** (this.retries - 1) * (0.5 + this.random());
  }

  private fail(reason: string): void {
    this.state = 'dead';
    this.ctx.counters.specFailed++;
    this.ctx.counters.specErrors++;
    this.ctx.note(reason);
  }

  update(now: number): void {
    if (this.state === 'live') {
      if (now >= this.nextPingAt && this.ws) {
        this.nextPingAt = Math.max(this.nextPingAt + PING_EVERY_MS, now);
        this.ws.send(this.net.ping(this.ctx.now()));
      }
    } else if (this.state === 'waiting' && now >= this.retryAt) {
      this.open();
    } else if (this.state === 'connecting' && this.ws && now > this.deadline) {
      const ws = this.ws;
      this.ws = null;
      ws.terminate();
      this.refused('spectator: no WELCOME within 10 s');
    }
  }

  stop(): void {
    if (this.state === 'live') this.ctx.counters.specLive--;
    this.state = 'stopped';
    const ws = this.ws;
    this.ws = null;
    if (ws?.isOpen) ws.close(1000, 'load test over');
    else ws?.terminate();
  }
}
