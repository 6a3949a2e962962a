/**
 * The pieces of the Server-Sent-Events transport that both ends share (contract: the header
 * of protocol.ts). Pure: no I/O, no clock; the server writes with `sseData` / `sseNamed` and
 * reads POST bodies with `splitMessages`; the client (ssesocket.ts) frames with
 * `frameMessages` and reads the stream with `SseParser`.
 *
 * Down (text/event-stream, the WHATWG "server-sent events" format):
 *
 *   event: open\ndata: <conn id>\n\n          first event of every stream
 *   [id: <tick>\n]data: <base64 message>\n\n  one server message (a SNAPSHOT carries its tick as id)
 *   : ping\n\n                               comment: a heartbeat, ignored
 *   event: close\ndata: <code> <reason>\n\n   the server's close; the stream ends after it
 *
 * Up (POST body, application/octet-stream), one or more of:
 *
 *   u16 big-endian length n (1..65535) | n bytes: one client message, as the WebSocket would carry it
 */

/** One dispatched event. `event` is 'message' unless an `event:` field named it; `id` is the event's own `id:` field, if any. */
export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** The heartbeat comment the server sends on an idle stream. */
export const SSE_PING = ': ping\n\n';

/** Bytes of one partial line a parser holds before it gives up on the stream (a base64 SNAPSHOT is a few KB). */
export const SSE_MAX_LINE = 1 << 20;

/**
 * Incremental text/event-stream parser. `feed(chunk)` takes decoded text in any pieces (a
 * line, or a CRLF, may be split across chunks) and returns the events completed by it.
 * Follows the WHATWG interpretation: lines end in CRLF, LF or CR; `:` starts a comment; one
 * space after the colon is dropped; `data:` lines join with '\n'; an event with no data is
 * not dispatched; `retry:` takes digits only; an `id:` holding NUL is ignored; a leading BOM
 * is dropped. Throws when one line grows past `maxLine` (a broken or hostile stream).
 */
export class SseParser {
  /** The stream's last event ID (persists across events, as in EventSource). */
  lastEventId = '';
  /** The last valid `retry:` value (ms), or null. */
  retry: number | null = null;
  /** Comment lines seen (heartbeats). */
  comments = 0;
  private partial = '';
  private pendingCR = false; // the previous chunk ended in CR: an LF opening this one belongs to it
  private started = false;
  private data: string[] = [];
  private eventType = '';
  private eventId: string | undefined = undefined;

  constructor(private readonly maxLine = SSE_MAX_LINE) {}

  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let s = chunk;
    if (s.length === 0) return out; // an empty chunk must not forget a CR that ended the previous one
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    let at = 0;
    if (this.pendingCR && s.charCodeAt(0) === 10) at = 1;
    this.pendingCR = false;
    while (at < s.length) {
      let end = at;
      while (end < s.length) {
        const c = s.charCodeAt(end);
        if (c === 10 || c === 13) break;
        end++;
      }
      if (end === s.length) { // no line end in what is left: keep it for the next chunk
        this.partial += s.slice(at);
        if (this.partial.length > this.maxLine) throw new Error(`sse: a line over ${this.maxLine} characters`);
        return out;
      }
      const line = this.partial ? this.partial + s.slice(at, end) : s.slice(at, end);
      this.partial = '';
      if (line.length > this.maxLine) throw new Error(`sse: a line over ${this.maxLine} characters`);
      if (s.charCodeAt(end) === 13) {
        if (end + 1 === s.length) this.pendingCR = true;
        else if (s.charCodeAt(end + 1) === 10) end++;
      }
      at = end + 1;
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58) { // ':'
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        return;
      case 'event':
        this.eventType = value;
        return;
      case 'id':
        if (!value.includes('\0')) {
          this.lastEventId = value;
          this.eventId = value;
        }
        return;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        return;
      default:
        return; // unknown fields are ignored
    }
  }

  private dispatch(out: SseEvent[]): void {
    const data = this.data;
    const event = this.eventType || 'message';
    const id = this.eventId;
    this.data = [];
    this.eventType = '';
    this.eventId = undefined;
    if (data.length === 0) return;
    out.push({ event, data: data.join('\n'), id });
  }
}

/** The text of one server message event: `id: <id>` when given (a SNAPSHOT's tick), then `data: <base64>`, then the blank line. */
export function sseData(bytes: Uint8Array, id?: number | string): string {
  const data = `data: ${toBase64(bytes)}\n\n`;
  return id === undefined ? data : `id: ${oneLine(String(id), 'id')}\n${data}`;
}

/** The text of one named event (`open`, `close`); `data` may hold newlines (one `data:` line each). */
export function sseNamed(name: string, data: string): string {
  return `event: ${oneLine(name, 'event name')}\ndata: ${data.split(/\r\n|\r|\n/).join('\ndata: ')}\n\n`;
}

/** A `close` event's data (`4006 room closed`) → code and reason; null unless it opens with a code of 1000–4999. */
export function parseCloseData(data: string): { code: number; reason: string } | null {
  const m = /^(\d{4})(?: ([\s\S]*))?$/.exec(data);
  if (!m) return null;
  const code = Number(m[1]);
  return code >= 1000 && code <= 4999 ? { code, reason: m[2] ?? '' } : null;
}

const oneLine = (s: string, what: string): string => {
  if (/[\r\n\0]/.test(s)) throw new Error(`sse: ${what} must be one line`);
  return s;
};

/** Bytes of the length prefix before each message of a POST body. */
export const FRAME_HEADER = 2;
export const MAX_FRAMED_MESSAGE = 0xffff;

/** One POST body from client messages: each a u16 big-endian length, then its bytes. Throws on an empty or over-64 KB message. */
export function frameMessages(list: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const m of list) {
    if (m.length === 0 || m.length > MAX_FRAMED_MESSAGE) throw new Error(`sse: a message of ${m.length} bytes cannot be framed (1..${MAX_FRAMED_MESSAGE})`);
    n += FRAME_HEADER + m.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const m of list) {
    out[at] = m.length >> 8;
    out[at + 1] = m.length & 0xff;
    out.set(m, at + FRAME_HEADER);
    at += FRAME_HEADER + m.length;
  }
  return out;
}

/**
 * The messages of a POST body, as views into it (copy what you keep past the buffer's life),
 * or null when the body is malformed: empty, a zero length, a length running past the end
 * (truncated), a dangling byte, or more than `maxMessages` messages. Never throws.
 */
export function splitMessages(body: Uint8Array, maxMessages = 64): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let at = 0;
  if (body.length === 0) return null;
  while (at < body.length) {
    if (body.length - at < FRAME_HEADER || out.length >= maxMessages) return null;
    const n = (body[at] << 8) | body[at + 1];
    at += FRAME_HEADER;
    if (n === 0 || at + n > body.length) return null;
    out.push(body.subarray(at, at + n));
    at += n;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Standard base64 (RFC 4648 §4, padded), without Buffer or btoa so the browser and Node share it. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  if (i + 1 === n) {
    const v = bytes[i] << 16;
    s += `${B64[v >> 18]}${B64[(v >> 12) & 63]}==`;
  } else if (i + 2 === n) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += `${B64[v >> 18]}${B64[(v >> 12) & 63]}${B64[(v >> 6) & 63]}=`;
  }
  return s;
}

/** Standard base64 → bytes; null unless `s` is well formed (length a multiple of 4, padding only at the end). */
export function fromBase64(s: string): Uint8Array<ArrayBuffer> | null {
  if (s.length % 4 !== 0) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    const a = c0 < 128 ? B64_INDEX[c0] : -1;
    const b = c1 < 128 ? B64_INDEX[c1] : -1;
    const c = last && pad === 2 ? 0 : c2 < 128 ? B64_INDEX[c2] : -1;
    const d = last && pad >= 1 ? 0 : c3 < 128 ? B64_INDEX[c3] : -1;
    if ((a | b | c | d) < 0) return null;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 0xff;
    if (o < out.length) out[o++] = v & 0xff;
  }
  return out;
}

/**
 * The SSE endpoints for the WebSocket URL a client would open: `ws(s)://host/PREFIX/ws?room=R&token=T[&spectate=1]`
 * → events `http(s)://host/PREFIX/api/rooms/R/events?token=T[&spectate=1]` and the send URL without its
 * `conn=` (appended once the `open` event names the connection). PREFIX is empty on a standalone
 * server and `/i/<id>` behind the cluster's nginx. Throws on a URL without `room`, or not ending in /ws.
 */
export function sseEndpoints(wsUrl: string): { events: string; send: (conn: string) => string; room: string } {
  const u = new URL(wsUrl);
  const proto = u.protocol === 'wss:' || u.protocol === 'https:' ? 'https:' : u.protocol === 'ws:' || u.protocol === 'http:' ? 'http:' : '';
  if (!proto) throw new Error(`sse: not a ws:// or wss:// URL: ${wsUrl}`);
  const room = u.searchParams.get('room');
  if (!room) throw new Error(`sse: no room in ${wsUrl}`);
  if (!/\/ws\/?$/.test(u.pathname)) throw new Error(`sse: the WebSocket path must end in /ws: ${wsUrl}`);
  const prefix = u.pathname.replace(/\/ws\/?$/, '');
  const token = u.searchParams.get('token') ?? '';
  const spectate = u.searchParams.get('spectate');
  const base = `${proto}//${u.host}${prefix}/api/rooms/${encodeURIComponent(room)}`;
  const q = new URLSearchParams({ token });
  if (spectate !== null) q.set('spectate', spectate);
  return {
    room,
    events: `${base}/events?${q}`,
    send: (conn) => `${base}/send?${new URLSearchParams({ conn, token })}`,
  };
}
