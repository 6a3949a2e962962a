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
 */
import { NetSim, type NetSimOptions } from '../../../netcode/netsim.ts';
import { CLOSE_REDIRECT } from '../../../netcode/protocol.ts';
import { ReconnectingSocket, type SocketState, type StateInfo, type WebSocketLike } from '../../../netcode/socket.ts';

export interface Inbound {
  bytes: Uint8Array;
  at: number; // ms, client clock
}

export type { StateInfo };

export interface LinkOptions {
  url: () => string;
  sim: NetSimOptions | null;
  /** The real clock, injected by the bootstrap (stamps arrivals). */
  clock: () => number;
  random: () => number;
  /** A socket opened: the caller sends HELLO. */
  onOpen: (now: number) => void;
  onState: (state: SocketState, info: StateInfo) => void;
  /** Test hook: the raw WebSocket of each connection. */
  onSocket?: (ws: WebSocket) => void;
}

export class Link {
  readonly socket: ReconnectingSocket;
  private inbox: Inbound[] = [];
  private simIn: NetSim<Inbound> | null = null;
  private simOut: NetSim<Uint8Array> | null = null;
  private connections = 0;
  /** The socket closed for a redirect and has not started the next attempt yet. */
  private redirecting = false;

  constructor(private readonly opts: LinkOptions) {
    this.socket = new ReconnectingSocket({
      url: opts.url,
      create: (url: string) => {
        const ws = new WebSocket(url);
        opts.onSocket?.(ws);
        // The DOM socket's handlers take MessageEvent/CloseEvent: structurally what the socket reads.
        return ws as unknown as WebSocketLike;
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
      opts.onState(state, info ?? {});
    };
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
