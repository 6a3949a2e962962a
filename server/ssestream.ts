/**
 * An SSE event stream as a room Link (sse.ts opens them): each server message one
 * `text/event-stream` event (netcode/sse.ts's format), written through uWS with its
 * backpressure counted for the fan-out, and the streams of each room, which the room's
 * shared snapshot reaches through `SseHub.publish`, base64'd once for all of them.
 */
import type uWS from 'uWebSockets.js';
import { S_SNAPSHOT } from '../netcode/protocol.ts';
import { SSE_PING, sseNamed } from '../netcode/sse.ts';
import type { DoorDeps, Entry } from './door.ts';
import type { Member } from './member.ts';
import type { Room } from './room.ts';
import type { Link } from './transport.ts';
import type { Viewer } from './watchers.ts';

/** What a stream needs of the server: the clock, the address limits (a stream counts as a socket), the wire counters. */
export type StreamDeps = Pick<DoorDeps, 'now' | 'limits' | 'manager'>;

/** A stream that has written nothing for this long gets a `: ping` comment (uWS and proxies time out idle responses). */
export const SSE_QUIET_MS = 5000;

/** SNAPSHOT's tick from its msgpack header ([17, tick, …]), for the event's `id:`. */
function snapshotTick(b: Uint8Array): number | undefined {
  if (b[0] !== 0x96 || b[1] !== S_SNAPSHOT) return undefined;
  const t = b[2];
  if (t < 0x80) return t;
  if (t === 0xcc) return b[3];
  if (t === 0xcd) return (b[3] << 8) | b[4];
  if (t === 0xce) return ((b[3] << 24) >>> 0) + ((b[4] << 16) | (b[5] << 8) | b[6]);
  return undefined;
}

/** One server message as an event: `id: <tick>` on a SNAPSHOT, the bytes in base64. */
export function eventText(bytes: Uint8Array): string {
  const tick = snapshotTick(bytes);
  const data = `data: ${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}\n\n`;
  return tick === undefined ? data : `id: ${tick}\n${data}`;
}

/** One open event stream: a room Link, and where its POSTs go. */
export class SseStream implements Link {
  closed = false;
  /** uWS said the response is backed up; what was written since (cleared once it drains). */
  private blocked = false;
  private backlog = 0;
  lastWriteMs: number;
  room: Room | null = null;
  member: Member | null = null;
  viewer: Viewer | null = null;

  constructor(
    readonly id: string, private readonly res: uWS.HttpResponse, readonly entry: Entry, private readonly hub: SseHub,
    private readonly d: StreamDeps,
  ) {
    this.lastWriteMs = d.now();
  }

  get peer(): string {
    return this.entry.peer;
  }

  /** `now`: the clock when the caller has read it already (the hub's publish reads it once for all its streams). */
  write(text: string, now = this.d.now()): void {
    if (this.closed) return;
    this.d.manager.wire.bytesOut += text.length;
    this.lastWriteMs = now;
    this.res.cork(() => {
      if (!this.res.write(text) && !this.blocked) {
        this.blocked = true;
        this.res.onWritable(() => {
          this.blocked = false;
          this.backlog = 0;
          return true;
        });
      }
    });
    if (this.blocked) this.backlog += text.length;
  }

  send(bytes: Uint8Array): void {
    this.write(eventText(bytes));
  }

  buffered(): number {
    return this.closed ? 0 : this.backlog;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.write(sseNamed('close', `${code} ${reason}`));
    this.res.cork(() => this.res.end());
    this.gone();
  }

  join(on: boolean): void {
    if (!this.closed) this.hub.member(this, on);
  }

  /** One client message from a POST, as the WebSocket's message handler would hand it on. */
  deliver(bytes: Uint8Array): void {
    if (this.closed || this.room === null) return;
    if (this.viewer !== null) this.room.receiveWatcher(this.viewer, bytes, this.d.now());
    else if (this.member !== null) this.room.receive(this.member, bytes, this.d.now());
  }

  /** The stream ended (closed here, or the client went): out of the room and the hub. */
  gone(): void {
    const first = !this.closed || this.hub.has(this);
    this.closed = true;
    if (!first) return;
    this.hub.forget(this);
    this.d.limits.closed(this.entry.peer);
    if (this.viewer && this.room) this.room.unwatch(this.viewer);
    if (this.member && this.room) this.room.disconnect(this.member, this, this.d.now());
    this.member = null;
    this.viewer = null;
  }
}

/** The open streams: by connection id (POSTs), and by room (the shared publish). */
export class SseHub {
  private readonly streams = new Map<string, SseStream>();
  private readonly rooms = new Map<string, Set<SseStream>>();
  /** The last message published and its event text: one base64 per room per tick, whatever the streams. */
  private memo: { bytes: Uint8Array | null; text: string } = { bytes: null, text: '' };

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.streams.size;
  }

  get(id: string): SseStream | undefined {
    return this.streams.get(id);
  }

  has(s: SseStream): boolean {
    return this.streams.get(s.id) === s;
  }

  add(s: SseStream): void {
    this.streams.set(s.id, s);
  }

  forget(s: SseStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    this.member(s, false);
  }

  member(s: SseStream, on: boolean): void {
    const code = s.entry.code;
    let set = this.rooms.get(code);
    if (on) {
      if (!set) {
        set = new Set();
        this.rooms.set(code, set);
      }
      set.add(s);
    } else if (set?.delete(s) && set.size === 0) this.rooms.delete(code);
  }

  /** The room's shared message to every stream on its channel (the WebSocket side is uWS's topic). */
  publish(code: string, bytes: Uint8Array): void {
    const set = this.rooms.get(code);
    if (!set) return;
    if (this.memo.bytes !== bytes) this.memo = { bytes, text: eventText(bytes) };
    const now = this.now();
    for (const s of set) s.write(this.memo.text, now);
  }

  /** A `: ping` to each stream quiet for SSE_QUIET_MS (main.ts calls it every second). */
  heartbeat(): void {
    const quiet = this.now() - SSE_QUIET_MS;
    for (const s of this.streams.values()) if (s.lastWriteMs <= quiet) s.write(SSE_PING);
  }

  /** Ends every stream (the server stops; rooms have closed theirs already). */
  stop(code: number, reason: string): void {
    for (const s of [...this.streams.values()]) s.close(code, reason);
  }
}
