/**
 * A WebSocketLike over Server-Sent Events + POST (contract: the header of protocol.ts; the
 * shared pieces: sse.ts), for networks that refuse the WebSocket upgrade. ReconnectingSocket
 * takes it through its `create` unchanged; it is built from the very ws:// URL the WebSocket
 * would open (a REDIRECT's url included), which `sseEndpoints` maps to the events/send URLs.
 *
 * Down: one `fetch` of the event stream, read by `SseParser` (no EventSource: this socket
 * sets `Last-Event-ID` itself and never reconnects on its own; ReconnectingSocket decides).
 * Up: `send` copies and queues; everything sent in one JS turn goes out in one POST, at most
 * one POST is in flight, and what queued meanwhile goes in the next one when it returns.
 *
 *   readyState 0 ─`event: open`→ 1 (onopen)   ─`event: close` CODE REASON→ 3, onclose(CODE, REASON)
 *   0|1 ─stream ends, fetch fails, bad event→ 3, onclose(1006)
 *   0 ─HTTP refusal→ 3, onerror({status, body}) then onclose(code for the status, body text)
 *   any ─close()→ 3, onclose(code, reason) in a microtask (as a browser's WebSocket would)
 *
 * A refusal before the stream opens is an HTTP status, which a WebSocket's close never shows;
 * sserefusal.ts maps it to a close code so ReconnectingSocket's FINAL_CLOSE_CODES rule applies
 * as is (a 429/503's Retry-After is kept in `retryAfterMs`), and makes close reasons one line.
 *
 * A POST refused with 404 means the server forgot the connection: its `event: close` is then
 * usually already on the stream, so the socket does not close at once (it would report 1006
 * over the real code); the next send, or the stream's end, closes it with 1006.
 *
 * Events of the stream are delivered in order; onmessage's `data` is a fresh ArrayBuffer.
 */
import type { WebSocketLike } from './socket.ts';
import { type SseEvent, SseParser, fromBase64, frameMessages, parseCloseData, sseEndpoints } from './sse.ts';
import { CLOSE_ABNORMAL, closeCodeForStatus, errText, reasonText, type SseRefusal } from './sserefusal.ts';

type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

export interface SseSocketOptions {
  /** Sent as `Last-Event-ID`: the newest SNAPSHOT tick the client holds (a spectator resumes by delta from it). */
  lastEventId?: string;
  /** Called with each SNAPSHOT's id as it arrives (an `SseConnector` keeps it for the next socket). */
  onEventId?: (id: string) => void;
  /** Extra request headers (e.g. Origin from Node, where fetch sends none). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Messages per POST at most; the rest wait for the next one (the server caps a body). Default 32. */
  maxBatch?: number;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const CLOSE_PROTOCOL = 1002;

export class SseSocket implements WebSocketLike {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  binaryType = 'arraybuffer';
  readyState = CONNECTING;
  onopen: Handler<unknown> | null = null;
  onmessage: Handler<{ data: unknown }> | null = null;
  onclose: Handler<{ code: number; reason: string }> | null = null;
  onerror: Handler<unknown> | null = null;
  /** The connection id the `open` event named ('' before it). */
  conn = '';
  /** The newest SNAPSHOT id seen on this stream, else the one it was opened with. */
  lastEventId: string | undefined;
  /** HTTP status of the event stream's answer (0 until it came). */
  status = 0;
  /** A 429/503 refusal's Retry-After, ms (null without one). */
  retryAfterMs: number | null = null;
  /** POSTs answered with anything but 2xx, or failed. */
  sendErrors = 0;
  private readonly events: string;
  private readonly sendBase: (conn: string) => string;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly maxBatch: number;
  private readonly onEventId?: (id: string) => void;
  private readonly abort = new AbortController();
  private queue: Uint8Array<ArrayBuffer>[] = [];
  private queuedBytes = 0;
  private inFlightBytes = 0;
  private posting = false;
  private flushScheduled = false;
  private sendGone = ''; // a POST said the connection is gone (404): its reason
  private done = false;

  constructor(readonly url: string, opts: SseSocketOptions = {}) {
    const ep = sseEndpoints(url);
    this.events = ep.events;
    this.sendBase = ep.send;
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = opts.headers ?? {};
    this.maxBatch = Math.max(1, opts.maxBatch ?? 32);
    this.lastEventId = opts.lastEventId;
    this.onEventId = opts.onEventId;
    void this.read();
  }

  /** Closed, or closing on our side: nothing the stream says matters any more. */
  private get ended(): boolean {
    return this.done || this.readyState === CLOSING;
  }

  /** Bytes given to send() that no POST answered yet (queued and in flight), as WebSocket.bufferedAmount. */
  get bufferedAmount(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  /** Queues one message (copied); the messages of one JS turn leave in one POST. Throws while connecting, as a WebSocket does. */
  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.readyState === CONNECTING) throw new Error('SseSocket: send before open');
    if (this.readyState !== OPEN) return;
    if (this.sendGone) {
      this.finish(CLOSE_ABNORMAL, this.sendGone);
      return;
    }
    this.queue.push(data.slice());
    this.queuedBytes += data.length;
    if (!this.posting && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        void this.post();
      });
    }
  }

  /** Ends the stream (the server drops the connection when it sees it go); onclose follows in a microtask. */
  close(code = 1000, reason = ''): void {
    if (this.done) return;
    this.queue = [];
    this.queuedBytes = 0;
    queueMicrotask(() => this.finish(code, reason));
    this.readyState = CLOSING; // until the microtask
    this.abort.abort();
  }

  private async read(): Promise<void> {
    let res: Response;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...this.headers };
      if (this.lastEventId !== undefined && this.lastEventId !== '') headers['last-event-id'] = this.lastEventId;
      res = await this.fetchFn(this.events, { headers, signal: this.abort.signal, cache: 'no-store' });
    } catch (e) {
      return this.error(0, `event stream: ${errText(e)}`, CLOSE_ABNORMAL);
    }
    this.status = res.status;
    if (res.status !== 200) {
      const body = (await res.text().catch(() => '')).trim();
      const after = Number(res.headers.get('retry-after'));
      if (Number.isFinite(after) && after >= 0 && res.headers.get('retry-after')) this.retryAfterMs = after * 1000;
      const reason = `HTTP ${res.status}${body ? ` ${reasonText(body)}` : ''}`;
      return this.error(res.status, reason, closeCodeForStatus(res.status));
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || !res.body) {
      void res.body?.cancel().catch(() => {});
      return this.error(0, `event stream: content-type ${type || 'none'}`, CLOSE_ABNORMAL);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (this.ended) break;
        if (done) {
          this.finish(CLOSE_ABNORMAL, this.sendGone || 'event stream ended');
          break;
        }
        for (const ev of parser.feed(decoder.decode(value, { stream: true }))) {
          this.event(ev);
          if (this.ended) break;
        }
        if (this.ended) break;
      }
    } catch (e) {
      if (!this.ended) this.error(0, `event stream: ${errText(e)}`, CLOSE_ABNORMAL);
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  private event(ev: SseEvent): void {
    if (ev.event === 'message') {
      const bytes = this.readyState === OPEN ? fromBase64(ev.data) : null;
      if (!bytes) {
        this.fault(this.readyState === OPEN ? 'a message that is not base64' : 'a message before the open event');
        return;
      }
      if (ev.id !== undefined && ev.id !== '') {
        this.lastEventId = ev.id;
        this.onEventId?.(ev.id);
      }
      this.onmessage?.({ data: bytes.buffer });
    } else if (ev.event === 'open') {
      if (this.readyState !== CONNECTING) {
        this.fault('a second open event');
        return;
      }
      this.conn = ev.data;
      this.readyState = OPEN;
      this.onopen?.({ type: 'open' });
    } else if (ev.event === 'close') {
      const c = parseCloseData(ev.data);
      this.finish(c?.code ?? CLOSE_ABNORMAL, c ? c.reason : `bad close event: ${reasonText(ev.data)}`);
    }
    // other named events: not ours to know; ignored like an unknown field
  }

  /** A stream that breaks the contract: hang up, report 1002-ish as a protocol error. */
  private fault(why: string): void {
    this.error(0, `event stream: ${why}`, CLOSE_PROTOCOL);
  }

  private error(status: number, message: string, code: number): void {
    if (this.ended) return;
    const ev: SseRefusal = { type: 'error', status, message };
    this.onerror?.(ev);
    this.finish(code, message);
  }

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.readyState = CLOSED;
    this.queue = [];
    this.queuedBytes = 0;
    this.abort.abort();
    this.onclose?.({ code, reason: reasonText(reason) });
  }

  /** POSTs what is queued (up to maxBatch messages), then again while more queued meanwhile. */
  private async post(): Promise<void> {
    if (this.posting) return;
    this.posting = true;
    try {
      while (this.queue.length > 0 && this.readyState === OPEN && !this.sendGone) {
        const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
        this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
        const body = frameMessages(batch);
        const bytes = body.length - 2 * batch.length;
        this.queuedBytes -= bytes;
        this.inFlightBytes = bytes;
        try {
          const res = await this.fetchFn(this.sendBase(this.conn), {
            method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...this.headers }, cache: 'no-store',
          });
          const text = await res.text().catch(() => ''); // read to the end: the connection goes back to the pool
          if (!res.ok) {
            this.sendErrors++;
            if (res.status === 404) this.sendGone = `send: HTTP 404${text ? ` ${reasonText(text.trim())}` : ''}`;
            this.onerror?.({ type: 'error', status: res.status, message: `send: HTTP ${res.status} ${reasonText(text.trim())}` } satisfies SseRefusal);
          }
        } catch (e) {
          this.sendErrors++;
          this.onerror?.({ type: 'error', status: 0, message: `send: ${errText(e)}` } satisfies SseRefusal);
        } finally {
          this.inFlightBytes = 0;
        }
      }
    } finally {
      this.posting = false;
    }
  }
}
