/** An event stream read with fetch, for tests: its events as they come, decoded messages, and its end. */
import { decodeServer } from '../../netcode/codec.ts';
import type { ServerMessage } from '../../netcode/protocol.ts';
import { type SseEvent, SseParser } from '../../netcode/sse.ts';

export class EventStream {
  readonly seen: SseEvent[] = [];
  private readonly ctrl = new AbortController();
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private readonly parser = new SseParser();
  status = 0;
  contentType = '';

  static async open(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
    const s = new EventStream();
    const res = await fetch(url, { headers, signal: s.ctrl.signal });
    s.status = res.status;
    s.contentType = res.headers.get('content-type') ?? '';
    s.reader = (res.body as ReadableStream<Uint8Array>).getReader();
    return s;
  }

  /** The first event (from the start) that `pred` accepts, reading on until it comes; throws when the stream ends first. */
  async until(pred: (e: SseEvent) => boolean, ms = 5000): Promise<SseEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.seen.find(pred);
      if (found) return found;
      if (!this.reader) throw new Error('no stream');
      if (Date.now() > deadline) throw new Error(`no such event within ${ms} ms; seen ${this.seen.map((e) => e.event).join(', ')}`);
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`the stream ended; seen ${this.seen.map((e) => e.event).join(', ')}`);
      this.seen.push(...this.parser.feed(Buffer.from(value).toString()));
    }
  }

  /** The first server message (a default event) of this type. */
  async message<T extends ServerMessage['type']>(type: T, ms = 5000): Promise<Extract<ServerMessage, { type: T }>> {
    const e = await this.until((ev) => ev.event === 'message' && decoded(ev)?.type === type, ms);
    return decoded(e) as Extract<ServerMessage, { type: T }>;
  }

  close(): void {
    this.ctrl.abort();
  }
}

/** A default event's message, or null when it is not one that decodes. */
export function decoded(e: SseEvent): ServerMessage | null {
  const r = decodeServer(Buffer.from(e.data, 'base64'));
  return r.ok ? r.msg : null;
}
