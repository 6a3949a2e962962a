/**
 * SNAPSHOT framed by hand around a body and events encoded once per room tick, so a
 * private copy (another baseline) costs one small copy and the room's shared copy is
 * built once for all its clients. The bytes are exactly what msgpack would write for
 * the SNAPSHOT array of protocol.ts, which `decodeServer` (codec.ts) reads back.
 */
import { Encoder } from '@msgpack/msgpack';
import { S_SNAPSHOT, type WireEvent } from './protocol.ts';

const encoder = new Encoder({ ignoreUndefined: true });

const EMPTY_EVENTS = encoder.encode([]);

/** msgpack bytes of an event list, to be shared by every client that gets the same events. */
export function encodeEvents(events: readonly WireEvent[]): Uint8Array {
  return events.length === 0 ? EMPTY_EVENTS : encoder.encode(events);
}

/**
 * SNAPSHOT framed by hand around a shared body and pre-encoded events:
 * fixarray(6) 17 uint(tick) uint(base) uint(checksum) bin(body) events.
 * Returns a fresh array of the exact size (uWS may keep a reference until the write completes).
 */
export function frameSnapshot(tick: number, baseTick: number, checksum: number, body: Uint8Array, events: Uint8Array): Uint8Array {
  const n = body.byteLength;
  const size = 2 + uintSize(tick) + uintSize(baseTick) + uintSize(checksum) + (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n
    + events.byteLength;
  const b = new Uint8Array(size); // exact: written once, handed to the socket as is
  let o = 0;
  b[o++] = 0x96;
  b[o++] = S_SNAPSHOT;
  o = writeUint(b, o, tick);
  o = writeUint(b, o, baseTick);
  o = writeUint(b, o, checksum);
  if (n < 0x100) { b[o++] = 0xc4; b[o++] = n; }
  else if (n < 0x10000) { b[o++] = 0xc5; b[o++] = n >>> 8; b[o++] = n & 0xff; }
  else { b[o++] = 0xc6; b[o++] = n >>> 24; b[o++] = (n >>> 16) & 0xff; b[o++] = (n >>> 8) & 0xff; b[o++] = n & 0xff; }
  b.set(body, o);
  o += n;
  b.set(events, o);
  return b;
}

const uintSize = (v: number): number => (v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5);

function writeUint(b: Uint8Array, o: number, v: number): number {
  if (v < 0x80) { b[o++] = v; }
  else if (v < 0x100) { b[o++] = 0xcc; b[o++] = v; }
  else if (v < 0x10000) { b[o++] = 0xcd; b[o++] = v >>> 8; b[o++] = v & 0xff; }
  else { b[o++] = 0xce; b[o++] = v >>> 24; b[o++] = (v >>> 16) & 0xff; b[o++] = (v >>> 8) & 0xff; b[o++] = v & 0xff; }
  return o;
}
