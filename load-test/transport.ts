/**
 * The socket a bot, spectator or the RTT probe opens, by `--transport`: `ws` is wire.ts's
 * RFC 6455 client; `sse` is netcode/ssesocket.ts (the browser's fallback: an event stream
 * read with fetch, client messages POSTed, batched per JS turn) behind the same handlers, so
 * a bot does not know which one it holds. Both take the ws:// URL the WebSocket would open
 * (a REDIRECT's included) and refuse any host but loopback (wire.ts's rule).
 *
 * Over SSE, an HTTP refusal before the stream opens reaches `onError` as UnexpectedResponse,
 * as a refused upgrade does, then `onClose` with the code SseSocket mapped it to.
 * wss:// with --ca is not offered over SSE: Node's fetch cannot be handed a certificate per
 * request; NODE_EXTRA_CA_CERTS=FILE (read at process start) trusts it for the whole run.
 */
import { SseSocket } from '../netcode/ssesocket.ts';
import { loopbackTarget, UnexpectedResponse, Wire, type WireHandlers } from './wire.ts';

export const TRANSPORTS = ['ws', 'sse'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** What the load test's clients use of a socket: Wire's surface. */
export interface BotSocket {
  readonly isOpen: boolean;
  send(bytes: Uint8Array): void;
  /** Normal close (the end of a run, following a redirect). */
  close(code?: number, reason?: string): void;
  /** Gone at once, no close handshake (churn's lost network); onClose(1006) follows. */
  terminate(): void;
}

/** `lastEventId` (SSE only): the newest SNAPSHOT tick the client holds, sent as Last-Event-ID. */
export function openSocket(transport: Transport, url: string, h: WireHandlers, opts: { ca?: string; lastEventId?: string } = {}): BotSocket {
  return transport === 'sse' ? new SseWire(url, h, opts.lastEventId) : new Wire(url, h, { ca: opts.ca });
}

/** SseSocket behind WireHandlers: messages as Buffers (views, no copy), refusals as UnexpectedResponse. */
export class SseWire implements BotSocket {
  private readonly ws: SseSocket;
  private opened = false;
  private done = false;

  constructor(url: string, h: WireHandlers, lastEventId?: string) {
    loopbackTarget(url); // throws unless ws(s):// to loopback
    const ws = new SseSocket(url, { lastEventId });
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      h.onOpen();
    };
    ws.onmessage = (ev) => {
      const ab = ev.data as ArrayBuffer;
      h.onMessage(Buffer.from(ab, 0, ab.byteLength), true);
    };
    ws.onerror = (ev) => {
      const e = ev as { status: number; message: string };
      if (!this.opened && e.status > 0) h.onError(new UnexpectedResponse(e.status, e.message.replace(/^HTTP \d+ ?/, '')));
      else h.onError(new Error(`sse: ${e.message}`));
    };
    ws.onclose = (ev) => {
      if (this.done) return;
      this.done = true;
      h.onClose(ev.code, ev.reason);
    };
  }

  get isOpen(): boolean {
    return this.ws.readyState === SseSocket.OPEN;
  }

  send(bytes: Uint8Array): void {
    if (this.ws.readyState === SseSocket.OPEN) this.ws.send(bytes as Uint8Array<ArrayBuffer>);
  }

  close(code = 1000, reason = ''): void {
    this.ws.close(code, reason);
  }

  /** The stream's fetch is aborted: to the server the connection just ends, as a lost network's would. */
  terminate(): void {
    this.ws.close(1006, 'terminated');
  }
}
