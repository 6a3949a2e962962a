/**
 * A client WebSocket that reconnects on its own, for the browser and Node bots.
 * The socket is injected (`create`) and time is the caller's: `connect(now)` and
 * `update(now)` drive every timer, so tests run it on virtual time with a fake.
 *
 * State machine:
 *   idle ─connect→ connecting ─open→ open ─abnormal close→ reconnecting ─due→ connecting …
 *   connecting ─fail / openTimeout→ reconnecting (or offline after maxAttempts retries)
 *   any ─close()→ closed;  any ─close with a FINAL_CLOSE_CODES code→ closed
 *   open ─close with CLOSE_REDIRECT→ connecting: the next update() opens the next attempt at once
 *     (the caller has read the REDIRECT by then and its url() names the new instance); more than
 *     MAX_REDIRECTS of them within REDIRECT_WINDOW count as failures, so a loop backs off
 * A retry waits backoffDelay(attempt) — exponential, capped, with full jitter on
 * the `jitter` share so a server restart is not met by all clients at once.
 * `attempt` counts the retries since the last successful open (0 while open and
 * during the first connect); a successful open resets it. `unopened` counts the
 * attempts in a row that ended before they opened (refused, blocked, timed out): a
 * caller may take it for a network that refuses this transport (the browser falls
 * back to Server-Sent Events after two, see game/client/src/link.ts).
 *
 * Invariant: at most one live underlying socket; events of a socket that was
 * replaced or abandoned are ignored.
 */
import { CLOSE_REDIRECT, FINAL_CLOSE_CODES } from './protocol.ts';

/**
 * A handler property typed with method (bivariant) parameter checking, so the DOM
 * WebSocket — whose handlers take Event / MessageEvent / CloseEvent — fits.
 */
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  /** Uint8Array<ArrayBuffer> (never shared memory) so the DOM WebSocket, whose send takes BufferSource, fits. */
  send(data: Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type SocketState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed';

export interface BackoffOptions {
  base: number; // ms, default 500
  factor: number; // default 2
  max: number; // ms, default 10000
  jitter: number; // 0..1, default 0.5: the share of the delay drawn at random
  /**
   * For this long after a connection is lost, delays are capped at `fastMax`:
   * most outages are short (a Wi-Fi hand-over, a server restart), and a player
   * should be back within a second of the link returning, not after the next
   * long backoff step. Beyond it the exponential schedule spares the server.
   */
  fastWindow: number; // ms, default 10000
  fastMax: number; // ms, default 800
}

export const DEFAULT_BACKOFF: BackoffOptions = { base: 500, factor: 2, max: 10_000, jitter: 0.5, fastWindow: 10_000, fastMax: 800 };

/**
 * Delay before retry `attempt` (1-based), `elapsed` ms after the connection was
 * lost: d = min(max, base·factor^(attempt−1)) — at most fastMax within the
 * fast window — then d·(1 − jitter) + random()·d·jitter.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number, elapsed = Infinity): number {
  const n = Math.max(1, Math.floor(attempt));
  let d = Math.min(opts.max, opts.base * opts.factor ** (n - 1));
  if (elapsed < opts.fastWindow) d = Math.min(d, opts.fastMax);
  const j = Math.min(1, Math.max(0, opts.jitter));
  return d * (1 - j) + random() * d * j;
}

export interface SocketOptions {
  url: () => string; // called per attempt: token/room may change
  create: (url: string) => WebSocketLike;
  random: () => number;
  backoff?: Partial<BackoffOptions>;
  maxAttempts?: number; // retries in a row before 'offline'; default Infinity
  openTimeout?: number; // ms, default 8000
}

export interface StateInfo {
  code?: number;
  reason?: string;
  retryIn?: number; // ms
}

const OPEN = 1; // WebSocket.OPEN
const CLOSE_ABNORMAL = 1006;
/** Redirects followed at once within REDIRECT_WINDOW ms; past that a redirect is retried with backoff. */
export const MAX_REDIRECTS = 4;
export const REDIRECT_WINDOW = 10_000;

export class ReconnectingSocket {
  private readonly opts: SocketOptions;
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private readonly openTimeout: number;
  private ws: WebSocketLike | null = null;
  private stateNow: SocketState = 'idle';
  private attempts = 0;
  private unopenedRun = 0;
  /** The current socket fired open. */
  private opened = false;
  private retryAt: number | null = null;
  private openDeadline = Infinity;
  private lastNow = 0;
  /** When the connection was lost (or the first attempt failed); null while open. */
  private downSince: number | null = null;
  /** A redirect closed the socket: the next update() opens the next attempt. */
  private redirectPending = false;
  /** When the recent redirects were followed (ms), oldest first. */
  private readonly redirects: number[] = [];
  onOpen: (() => void) | null = null;
  onMessage: ((bytes: Uint8Array) => void) | null = null;
  onState: ((state: SocketState, info: StateInfo) => void) | null = null;

  constructor(opts: SocketOptions) {
    this.opts = opts;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.maxAttempts = opts.maxAttempts ?? Infinity;
    this.openTimeout = opts.openTimeout ?? 8000;
  }

  /** Opens the socket (again, after 'closed' or 'offline'); no-op while connecting or open. */
  connect(now: number): void {
    this.lastNow = now;
    if (this.stateNow === 'connecting' || this.stateNow === 'open') return;
    this.attempts = 0;
    this.downSince = null;
    this.start(now);
  }

  /** Drives timers on the caller's clock: starts the next attempt when due, times out a stuck connect. */
  update(now: number): void {
    this.lastNow = now;
    if (this.redirectPending) {
      this.redirectPending = false;
      this.start(now);
    } else if (this.stateNow === 'reconnecting' && this.retryAt !== null && now >= this.retryAt) this.start(now);
    else if (this.stateNow === 'connecting' && now >= this.openDeadline) {
      this.abandon(1000, 'open timeout');
      this.failed(CLOSE_ABNORMAL, 'open timeout');
    }
  }

  send(bytes: Uint8Array): boolean {
    if (this.stateNow !== 'open' || !this.ws || this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(bytes as Uint8Array<ArrayBuffer>); // our encoders never allocate SharedArrayBuffers
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The server named another endpoint on the open socket (REDIRECT, MOVE): closes this socket
   * and opens the next attempt at the next update(), as the CLOSE_REDIRECT that follows the
   * message would, without waiting for it. The client hanging up first matters behind a
   * proxy: one whose upstream closes while our data still arrives may reset the connection,
   * and a reset can discard the message itself. False (and nothing done) when the socket is
   * not open or too many redirects came lately: the server's close then takes its usual course.
   */
  follow(): boolean {
    if (this.stateNow !== 'open' || !this.ws || !this.followRedirect()) return false;
    this.abandon(1000, 'following the server');
    this.redirectPending = true;
    this.set('connecting', { code: CLOSE_REDIRECT, reason: 'following the server to another instance' });
    return true;
  }

  /** Deliberate close: never reconnects (until connect() is called again). */
  close(code = 1000, reason = ''): void {
    this.abandon(code, reason);
    this.retryAt = null;
    this.redirectPending = false;
    if (this.stateNow !== 'closed') this.set('closed', { code, reason });
  }

  get state(): SocketState {
    return this.stateNow;
  }

  get attempt(): number {
    return this.attempts;
  }

  /** Attempts in a row that failed before they opened (0 once one opens). */
  get unopened(): number {
    return this.unopenedRun;
  }

  /** Client ms of the next attempt while 'reconnecting'. */
  get nextRetryAt(): number | null {
    return this.stateNow === 'reconnecting' ? this.retryAt : null;
  }

  private start(now: number): void {
    this.retryAt = null;
    this.openDeadline = now + this.openTimeout;
    this.set('connecting', {});
    this.opened = false;
    let ws: WebSocketLike;
    try {
      ws = this.opts.create(this.opts.url());
    } catch (e) {
      this.failed(CLOSE_ABNORMAL, e instanceof Error ? e.message : String(e));
      return;
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempts = 0;
      this.unopenedRun = 0;
      this.opened = true;
      this.downSince = null;
      this.openDeadline = Infinity;
      this.set('open', {});
      this.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      const bytes = toBytes(ev.data);
      if (bytes) this.onMessage?.(bytes);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const code = typeof ev?.code === 'number' ? ev.code : CLOSE_ABNORMAL;
      const reason = typeof ev?.reason === 'string' ? ev.reason : '';
      if (FINAL_CLOSE_CODES.has(code)) {
        this.set('closed', { code, reason });
      } else if (code === CLOSE_REDIRECT && this.followRedirect()) {
        this.redirectPending = true;
        this.set('connecting', { code, reason });
      } else {
        this.failed(code, reason);
      }
    };
    ws.onerror = () => {}; // a close event always follows
  }

  /** Whether a redirect may be followed at once (not more than MAX_REDIRECTS within REDIRECT_WINDOW). */
  private followRedirect(): boolean {
    const r = this.redirects;
    while (r.length && this.lastNow - r[0] > REDIRECT_WINDOW) r.shift();
    if (r.length >= MAX_REDIRECTS) return false;
    r.push(this.lastNow);
    return true;
  }

  /** An attempt failed or an open socket dropped: schedule the next retry, or give up. */
  private failed(code: number, reason: string): void {
    this.ws = null;
    if (!this.opened) this.unopenedRun++;
    this.opened = false;
    if (this.attempts >= this.maxAttempts) {
      this.retryAt = null;
      this.set('offline', { code, reason });
      return;
    }
    this.attempts++;
    this.downSince ??= this.lastNow;
    const retryIn = backoffDelay(this.attempts, this.backoff, this.opts.random, this.lastNow - this.downSince);
    this.retryAt = this.lastNow + retryIn;
    this.set('reconnecting', { code, reason, retryIn });
  }

  /** Detaches and closes the current socket; its later events are ignored. */
  private abandon(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = null;
    ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      // closing a socket that never opened may throw in some runtimes; it is gone either way
    }
  }

  private set(state: SocketState, info: StateInfo): void {
    this.stateNow = state;
    this.onState?.(state, info);
  }
}

/** ArrayBuffer, Buffer, any typed-array view → Uint8Array (a view, no copy); anything else → null. */
export function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
