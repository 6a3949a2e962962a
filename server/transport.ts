/**
 * What a room needs of a client connection. uWS sockets implement it in
 * `ws.ts`; tests use an in-memory fake, so room logic runs on virtual time
 * without sockets.
 */
export interface Link {
  /** Queue one binary message. */
  send(bytes: Uint8Array): void;
  /**
   * Whether more than `limit` bytes wait in the transport, accepted but not yet written
   * to the kernel (backpressure). `published` is the running total of bytes published on
   * the room's Channel, which reach this link without passing through `send`.
   */
  backedUp(limit: number, published: number): boolean;
  /** Close with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Joins (true) or leaves (false) its room's Channel. */
  join(on: boolean): void;
}

/**
 * A Link that asks its socket how much it holds only when the answer could matter.
 * A socket's buffer grows only by what is sent to it, so "held when last asked, plus
 * sent since" bounds it: while that bound is within the limit, the link is not backed
 * up, exactly as asking would have told. The room checks every client every tick; a
 * healthy socket (0 held) is asked again only after a limit's worth of bytes went to
 * it, instead of once a tick (a native call and two more cold cache lines per client).
 */
export abstract class BoundedLink implements Link {
  private held = 0; // bytes the socket held when last asked
  private sentSince = 0; // bytes sent through `send` since then
  private publishedAt = 0; // the channel's total then

  /** What the socket holds now (the question the bound saves). */
  protected abstract socketBuffered(): number;
  /** Queue one binary message; implementations call `counted` with its size. */
  abstract send(bytes: Uint8Array): void;
  abstract close(code: number, reason: string): void;
  abstract join(on: boolean): void;

  protected counted(bytes: number): void {
    this.sentSince += bytes;
  }

  backedUp(limit: number, published: number): boolean {
    if (this.held + this.sentSince + (published - this.publishedAt) <= limit) return false;
    this.held = this.socketBuffered();
    this.sentSince = 0;
    this.publishedAt = published;
    return this.held > limit;
  }
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
