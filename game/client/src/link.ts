/**
 * The byte pipe to the server: a ReconnectingSocket, optionally behind the
 * network simulator in both directions (`?lag=100&jitter=20&loss=0.02`).
 *
 * Inbound messages are queued with their arrival time (from the injected clock)
 * and handed out by `drain(now)` inside the frame, so all netcode work is done
 * — and measured — in the frame update, while ping samples keep their true
 * receive time. Each connection gets fresh simulators: bytes of a dead socket
 * must never reach the next one (the server wants HELLO first).
 *
 * The simulator delays messages but not the close that follows them, so a
 * redirect's close can come before its REDIRECT is due. The next attempt then
 * waits for the REDIRECT, as TCP order would have it: it names the target.
 *
 * Transport: each attempt opens a WebSocket, or an SseSocket (Server-Sent Events down,
 * POSTs up: the same bytes) when `transport` is 'sse'. After WS_FAILURES_BEFORE_SSE
 * WebSocket attempts in a row that never opened, the link asks the server's /healthz over
 * plain HTTP: an answer (any status) means HTTP gets through but the upgrade does not (a
 * proxy or firewall that refuses it), and the link falls back to SSE and stays there for
 * good (flapping between the two would cost a failed attempt per reconnect); no answer
 * means the server is down or restarting, and the WebSocket stays. Backoff, resume
 * and redirects are ReconnectingSocket's either way; a new SSE stream names the newest
 * tick the client holds as its Last-Event-ID (`heldTick`, carried by an SseConnector).
 */
import { NetSim, type NetSimOptions } from '../../../netcode/netsim.ts';
import { CLOSE_REDIRECT } from '../../../netcode/protocol.ts';
import { ReconnectingSocket, type SocketState, type StateInfo, type WebSocketLike } from '../../../netcode/socket.ts';
import { SseConnector } from '../../../netcode/sseconnector.ts';
import type { Transport } from './transport.ts';

export interface Inbound {
  bytes: Uint8Array;
  at: number; // ms, client clock
}

export type { StateInfo };

/** WebSocket attempts in a row that never opened before the link switches to SSE. */
export const WS_FAILURES_BEFORE_SSE = 2;

/** The /healthz beside the WebSocket endpoint `wsUrl` (ws://host[/i/<id>]/ws?… → http://host[/i/<id>]/healthz). */
export function healthUrl(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = u.pathname.replace(/\/ws\/?$/, '/healthz');
  u.search = '';
  return u.toString();
}

export interface LinkOptions {
  url: () => string;
  sim: NetSimOptions | null;
  /** The real clock, injected by the bootstrap (stamps arrivals). */
  clock: () => number;
  random: () => number;
  /** A socket opened: the caller sends HELLO. */
  onOpen: (now: number) => void;
  onState: (state: SocketState, info: StateInfo) => void;
  /** 'sse': Server-Sent Events from the first attempt; 'ws' (default): WebSocket, falling back to SSE by itself. */
  transport?: Transport;
  /** The newest snapshot tick the client holds (0: none, a full snapshot is due), for an SSE stream's Last-Event-ID. */
  heldTick?: () => number;
  /** Test hook: the raw socket of each connection (a WebSocket, or an SseSocket). */
  onSocket?: (ws: WebSocketLike) => void;
  /** Opens a WebSocket (default: the browser's); tests pass a fake. */
  openWebSocket?: (url: string) => WebSocketLike;
  /** The SSE transport's fetch (default: the global one); tests pass a fake. */
  fetch?: typeof fetch;
}

export class Link {
  readonly socket: ReconnectingSocket;
  private inbox: Inbound[] = [];
  private simIn: NetSim<Inbound> | null = null;
  private simOut: NetSim<Uint8Array> | null = null;
  private connections = 0;
  /** The socket closed for a redirect and has not started the next attempt yet. */
  private redirecting = false;
  private transportNow: Transport;
  private readonly sse: SseConnector;
  /** The /healthz probe is out. */
  private probing = false;

  constructor(private readonly opts: LinkOptions) {
    this.transportNow = opts.transport ?? 'ws';
    this.sse = new SseConnector(opts.fetch ? { fetch: opts.fetch } : {});
    // The DOM socket's handlers take MessageEvent/CloseEvent: structurally what the socket reads.
    const openWs = opts.openWebSocket ?? ((url: string) => new WebSocket(url) as unknown as WebSocketLike);
    this.socket = new ReconnectingSocket({
      url: opts.url,
      create: (url: string) => {
        const ws = this.transportNow === 'sse' ? this.openSse(url) : openWs(url);
        opts.onSocket?.(ws);
        return ws;
      },
      random: opts.random,
      // Retries every 0.4–0.8 s for the first 10 s (a short outage costs under a second),
      // then every 5–10 s: about a minute in all before saying 'offline'.
      maxAttempts: 22,
    });
    this.socket.onOpen = () => {
      const now = opts.clock();
      this.inbox = [];
      if (opts.sim) {
        const seed = (opts.sim.seed ?? 1) + 2 * this.connections;
        this.simIn = new NetSim({ ...opts.sim, seed });
        this.simOut = new NetSim({ ...opts.sim, seed: seed + 1 });
      }
      this.connections++;
      opts.onOpen(now);
    };
    this.socket.onMessage = (bytes: Uint8Array) => {
      const msg = { bytes, at: opts.clock() };
      if (this.simIn) this.simIn.send(msg, msg.at, bytes.byteLength);
      else this.inbox.push(msg);
    };
    this.socket.onState = (state: SocketState, info: StateInfo) => {
      this.redirecting = state === 'connecting' && info?.code === CLOSE_REDIRECT;
      if (this.transportNow === 'ws' && state !== 'open' && !this.probing && this.socket.unopened >= WS_FAILURES_BEFORE_SSE) this.probe();
      opts.onState(state, info ?? {});
    };
  }

  /** Is the server there over plain HTTP? Then it is the upgrade that fails: SSE from the next attempt on. */
  private probe(): void {
    this.probing = true;
    const f = this.opts.fetch ?? fetch;
    let url: string;
    try {
      url = healthUrl(this.opts.url());
    } catch {
      this.probing = false;
      return;
    }
    f(url, { cache: 'no-store' }).then(() => { this.transportNow = 'sse'; }, () => {}).finally(() => { this.probing = false; });
  }

  /** The transport of the current (or next) attempt. */
  get transport(): Transport {
    return this.transportNow;
  }

  /**
   * An SseSocket for `url` (the ws:// URL the WebSocket would open). Its Last-Event-ID is the
   * tick we hold, not the newest the connector saw: a snapshot still in the simulator, or one
   * that failed to apply, is not held, and a delta from it could not be applied.
   */
  private openSse(url: string): WebSocketLike {
    const held = this.opts.heldTick?.() ?? 0;
    if (held > 0) this.sse.lastEventId = String(held);
    else this.sse.forget();
    return this.sse.create(url);
  }

  get simulated(): boolean {
    return this.opts.sim !== null;
  }

  connect(now: number): void {
    this.socket.connect(now);
  }

  send(bytes: Uint8Array, now: number): void {
    if (this.simOut) this.simOut.send(bytes, now, bytes.byteLength);
    else this.socket.send(bytes);
  }

  /** Messages received and due by `now` (simulated ones arrive when their delay is over). */
  drain(now: number): Inbound[] {
    if (this.simIn) for (const m of this.simIn.poll(now)) this.inbox.push({ bytes: m.bytes, at: now });
    const out = this.inbox;
    this.inbox = [];
    return out;
  }

  /** Sends what the outbound simulator lets through and runs the socket's timers. */
  update(now: number): void {
    if (this.simOut) for (const b of this.simOut.poll(now)) this.socket.send(b);
    if (this.redirecting && this.simIn && this.simIn.inFlight > 0) return; // the REDIRECT is still on its way
    this.socket.update(now);
  }

  close(): void {
    this.socket.close();
  }
}
