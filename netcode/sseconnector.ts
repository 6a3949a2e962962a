/** What carries an SSE client's place in the stream from one connection to the next. */
import { SseSocket, type SseSocketOptions } from './ssesocket.ts';

/**
 * Makes SseSockets for ReconnectingSocket (`create: connector.create`) and carries the newest
 * SNAPSHOT id from one socket to the next as its Last-Event-ID, so a reconnect tells the server
 * what the client holds. `forget()` when the client dropped its frames (a full snapshot is due).
 */
export class SseConnector {
  lastEventId: string | undefined;

  constructor(private readonly opts: Omit<SseSocketOptions, 'lastEventId' | 'onEventId'> & { lastEventId?: string } = {}) {
    this.lastEventId = opts.lastEventId;
  }

  readonly create = (url: string): SseSocket =>
    new SseSocket(url, { ...this.opts, lastEventId: this.lastEventId, onEventId: (id) => { this.lastEventId = id; } });

  forget(): void {
    this.lastEventId = undefined;
  }
}
