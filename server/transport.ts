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
}
