/**
 * One player's connection to one room: the protocol client (NetClient), the
 * byte link (socket + optional simulator), the server clock fed by pings, and
 * the traffic meters of the netgraph. It decodes what arrives and reports it
 * to the match through handlers; it knows nothing of rendering or the game.
 *
 * A REDIRECT (the room lives on another instance) or a MOVE (the room went there,
 * our seat with it: the instance drains for a deploy) is handled here and never
 * reaches the match: it sets the target, and the socket's next attempt — at the
 * `link.update` of the same `update` call — asks `url(target)` for it.
 *
 * A spectator's session (WELCOME with playerId 0) sends only what a spectator may: HELLO,
 * PING, and ACK 0 when a snapshot failed to apply (NetClient.fullRequest).
 */
import { ARENA_SCHEMA } from '../../sim/netschema.ts';
import { type ClientEvent, NetClient, type SnapshotInfo } from '../../../netcode/client.ts';
import { ServerClock } from '../../../netcode/clock.ts';
import type { NetSimOptions } from '../../../netcode/netsim.ts';
import type { WireEvent } from '../../../netcode/protocol.ts';
import type { SocketState, WebSocketLike } from '../../../netcode/socket.ts';
import { Link, type StateInfo } from './link.ts';
import { CounterRate, RateMeter } from './metrics.ts';
import { Target } from './target.ts';
import type { Transport } from './transport.ts';

type Welcome = Extract<ClientEvent, { kind: 'welcome' }>;

export interface SessionHandlers {
  welcome: (ev: Welcome, now: number) => void;
  snapshot: (snap: SnapshotInfo, now: number) => void;
  /** Events of a snapshot that could not be applied (they must still be shown). */
  events: (events: WireEvent[], now: number) => void;
  /** The server said why it is about to close the socket. */
  error: (code: number, reason: string) => void;
  state: (state: SocketState, info: StateInfo) => void;
}

export interface SessionOptions {
  /** The socket URL of the next attempt, at `target` (an instance's endpoint) or, when null, the default one. */
  url: (target: string | null) => string;
  /** Where the first attempt goes (the new room's owner), or null. */
  target?: string | null;
  sim: NetSimOptions | null;
  clock: () => number;
  random: () => number;
  handlers: SessionHandlers;
  /** 'sse' from the start, or 'ws' (default) with the fallback to SSE (link.ts). */
  transport?: Transport;
  onSocket?: (ws: WebSocketLike) => void;
}

/** Ping period while the clock is still learning, and after (ms). */
const PING_FAST = 100;
const PING_SLOW = 1000;

export class Session {
  readonly net = new NetClient(ARENA_SCHEMA);
  readonly clock = new ServerClock();
  readonly link: Link;
  readonly target: Target;
  /** A WELCOME arrived on the current socket. */
  welcomed = false;
  everWelcomed = false;
  /** A MOVE came and no WELCOME since: the seat is on its way to another instance. */
  moving = false;
  /** MOVEs followed in this match. */
  moves = 0;
  state: SocketState = 'idle';
  stateInfo: StateInfo = {};
  lastError: { code: number; reason: string } | null = null;
  readonly snapshotRate = new RateMeter(1000);
  readonly bytesIn = new CounterRate(1000);
  readonly bytesOut = new CounterRate(1000);
  private nextPingAt = 0;
  private bytesSent = 0;

  constructor(private readonly opts: SessionOptions) {
    this.target = new Target(opts.target ?? null);
    this.link = new Link({
      url: () => opts.url(this.target.url),
      sim: opts.sim,
      clock: opts.clock,
      random: opts.random,
      transport: opts.transport,
      heldTick: () => this.net.ackTick,
      onSocket: opts.onSocket,
      onOpen: (now) => {
        this.welcomed = false;
        this.nextPingAt = now;
        this.send(this.net.hello(), now);
      },
      onState: (state, info) => {
        this.target.state(this.state, state, this.welcomed, info.code);
        this.state = state;
        this.stateInfo = info;
        if (state !== 'open') this.welcomed = false;
        opts.handlers.state(state, info);
      },
    });
  }

  get tickRate(): number {
    return this.net.tickRate || 30;
  }

  /** Connected and welcomed: inputs may flow. */
  get live(): boolean {
    return this.state === 'open' && this.welcomed;
  }

  connect(now: number): void {
    this.link.connect(now);
  }

  send(bytes: Uint8Array, now: number): void {
    this.bytesSent += bytes.byteLength; // not net.stats.bytesOut: a batch of inputs goes out as its last message only
    this.link.send(bytes, now);
  }

  /** Handles everything that arrived, pings when due, flushes the link. Call once a frame (and from a slow timer). */
  update(now: number): void {
    for (const m of this.link.drain(now)) this.handle(this.net.receive(m.bytes, m.at), m.at);
    if (this.live && now >= this.nextPingAt) {
      this.send(this.net.ping(now), now);
      this.nextPingAt = now + (this.clock.ready ? PING_SLOW : PING_FAST);
    }
    const full = this.live ? this.net.fullRequest(now) : null;
    if (full) this.send(full, now);
    this.link.update(now);
    this.bytesIn.sample(now, this.net.stats.bytesIn);
    this.bytesOut.sample(now, this.bytesSent);
  }

  private handle(ev: ClientEvent, at: number): void {
    const h = this.opts.handlers;
    switch (ev.kind) {
      case 'welcome':
        this.welcomed = true;
        this.everWelcomed = true;
        this.moving = false;
        this.lastError = null;
        h.welcome(ev, at);
        return;
      case 'snapshot':
        this.snapshotRate.add(at);
        h.snapshot(ev.snap, at);
        return;
      case 'pong':
        this.clock.sample(ev.clientTime, ev.serverTime, ev.now);
        return;
      case 'error':
        this.lastError = { code: ev.code, reason: ev.reason };
        h.error(ev.code, ev.reason);
        return;
      case 'redirect':
        // Not an error: reconnect at once, to this target (before the server's CLOSE_REDIRECT).
        this.target.redirect(ev.url);
        this.link.socket.follow();
        if (ev.moved) {
          this.moving = true;
          this.moves++;
        }
        return;
      case 'bad':
        // Counted in net.stats; a failed snapshot already asked for a full one. Its events still count.
        if (ev.events?.length) h.events(ev.events, at);
        return;
    }
  }

  /** No inputs go out (no frames drawn, or a spectator): a player still acknowledges, so deltas stay small. */
  ackIdle(now: number): void {
    if (this.live && this.net.ackTick && !this.net.spectator) this.send(this.net.ack(), now);
  }

  close(): void {
    this.link.close();
  }
}
