/**
 * What a room needs of a client connection. uWS sockets implement it in
 * `ws.ts`; tests use an in-memory fake, so room logic runs on virtual time
 * without sockets.
 */
export interface Link {
  /** Queue one binary message. */
  send(bytes: Uint8Array): void;
  /** Bytes accepted but not yet written to the kernel (backpressure). */
  buffered(): number;
  /** Close with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Joins (true) or leaves (false) its room's Channel. */
  join(on: boolean): void;
  /** The client's address (behind a trusted proxy: the one it forwarded), when known. */
  readonly peer?: string;
}

/**
 * A room's broadcast: one publish reaches every Link of the room that joined
 * (a uWS topic: the message is handed to uWS once, which writes it to each
 * subscriber natively).
 */
export interface Channel {
  publish(bytes: Uint8Array): void;
}

/** An in-memory Channel (tests, benchmarks): links join it through `member(link)`. */
export class MemoryChannel implements Channel {
  private readonly links = new Set<{ send(bytes: Uint8Array): void }>();

  publish(bytes: Uint8Array): void {
    for (const l of this.links) l.send(bytes);
  }

  /** Adds or removes a link; what a fake Link's `join` calls. */
  member(link: { send(bytes: Uint8Array): void }, on: boolean): void {
    if (on) this.links.add(link);
    else this.links.delete(link);
  }

  get size(): number {
    return this.links.size;
  }
}
