/**
 * msgpack framing and validation for every message of protocol.ts.
 *
 * Decoders never throw: they return `{ ok: true, msg }` or `{ ok: false, reason }`
 * for any byte string. Every field is checked for type and range (the checks:
 * wirecheck.ts), so what reaches the server's logic is well-formed; the server
 * closes the sender with CLOSE_BAD_MESSAGE and the reason when it is not.
 *
 * SNAPSHOT is framed by hand (snapframe.ts) around a body and events encoded once
 * per room tick; `encodeServer` frames one the same way.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import {
  C_ACK, C_CHAT, C_HELLO, C_INPUT, C_PING, type ClientMessage, type InputFrame, LIMITS, S_ERROR, S_MOVE, S_PONG,
  S_REDIRECT, S_SNAPSHOT, S_WELCOME, type ServerMessage, type WireEvent,
} from './protocol.ts';
import { encodeEvents, frameSnapshot } from './snapframe.ts';
import { cleanText } from './text.ts';
import { isEvent, isFiniteNum, isInstanceId, isRoster, isSocketUrl, isStr, isUint } from './wirecheck.ts';

export type Decoded<T> = { ok: true; msg: T } | { ok: false; reason: string };

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({
  maxStrLength: 4096, maxBinLength: 1 << 20, maxArrayLength: 4096, maxMapLength: 0, maxExtLength: 0,
});

const fail = (reason: string) => ({ ok: false as const, reason });

function unpack(bytes: Uint8Array): unknown[] | string {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    return `not msgpack: ${(err as Error).message.slice(0, 80)}`;
  }
  if (!Array.isArray(value) || value.length === 0) return 'not a message array';
  return value;
}

export function encodeClient(msg: ClientMessage): Uint8Array {
  switch (msg.type) {
    case C_HELLO: return encoder.encode([C_HELLO, msg.version, msg.resumeTick]);
    case C_INPUT: {
      const flat: number[] = [];
      for (const i of msg.inputs) flat.push(i.buttons, i.aim);
      return encoder.encode([C_INPUT, msg.ackTick, msg.viewTick, msg.inputs[0]?.seq ?? 0, flat]);
    }
    case C_ACK: return encoder.encode([C_ACK, msg.ackTick]);
    case C_PING: return encoder.encode([C_PING, msg.clientTime]);
    case C_CHAT: return encoder.encode([C_CHAT, msg.text]);
  }
}

/** An INPUT message read in place by `readInput`: reused from message to message, no allocation. */
export interface InputBatch {
  ackTick: number;
  viewTick: number;
  firstSeq: number;
  count: number;
  readonly buttons: Uint8Array;
  readonly aims: Uint16Array;
}

export function inputBatch(): InputBatch {
  const n = LIMITS.maxInputsPerMessage;
  return { ackTick: 0, viewTick: 0, firstSeq: 0, count: 0, buttons: new Uint8Array(n), aims: new Uint16Array(n) };
}

let rp = 0; // read position of readUint (single-threaded; set by readInput)

/** A msgpack unsigned integer at rp in its canonical forms (fixint, uint 8/16/32), or -1. */
function readUint(b: Uint8Array): number {
  const t = b[rp];
  if (t < 0x80) { rp += 1; return t; }
  if (t === 0xcc) { rp += 2; return rp <= b.length ? b[rp - 1] : -1; }
  if (t === 0xcd) { rp += 3; return rp <= b.length ? (b[rp - 2] << 8) | b[rp - 1] : -1; }
  if (t === 0xce) { rp += 5; return rp <= b.length ? ((b[rp - 4] << 24) | (b[rp - 3] << 16) | (b[rp - 2] << 8) | b[rp - 1]) >>> 0 : -1; }
  return -1;
}

/**
 * The server's fast path for the message that arrives every tick from every
 * client: reads a well-formed INPUT (as `encodeClient` writes it) into `out`
 * without building msgpack values. Returns false for anything else, including
 * any malformed or unusual encoding; the caller then takes `decodeClient`, which
 * accepts exactly the same well-formed messages and names what is wrong.
 */
export function readInput(b: Uint8Array, out: InputBatch): boolean {
  if (b.length < 7 || b.length > LIMITS.maxMessageBytes || b[0] !== 0x95 || b[1] !== C_INPUT) return false;
  rp = 2;
  const ack = readUint(b);
  const view = readUint(b);
  const first = readUint(b);
  if (ack < 0 || view < 0 || first < 0 || rp >= b.length) return false;
  const h = b[rp++];
  let len = -1;
  if (h >= 0x90 && h <= 0x9f) len = h & 0x0f; // fixarray, up to 15 values
  else if (h === 0xdc && rp + 2 <= b.length) { len = (b[rp] << 8) | b[rp + 1]; rp += 2; } // array 16 (8 inputs = 16 values)
  if (len <= 0 || len % 2 !== 0 || len > LIMITS.maxInputsPerMessage * 2) return false;
  const n = len / 2;
  for (let i = 0; i < n; i++) {
    const buttons = readUint(b);
    const aim = readUint(b);
    if (buttons < 0 || buttons > 0xff || aim < 0 || aim > 0xffff) return false;
    out.buttons[i] = buttons;
    out.aims[i] = aim;
  }
  if (rp !== b.length || first + n - 1 > LIMITS.maxSeq) return false;
  out.ackTick = ack;
  out.viewTick = view;
  out.firstSeq = first;
  out.count = n;
  return true;
}

/** Validates one client → server message. */
export function decodeClient(bytes: Uint8Array): Decoded<ClientMessage> {
  if (bytes.byteLength > LIMITS.maxMessageBytes) return fail('message too large');
  const a = unpack(bytes);
  if (typeof a === 'string') return fail(a);
  switch (a[0]) {
    case C_HELLO:
      if (a.length !== 3 || !isUint(a[1], 0xffff) || !isUint(a[2], LIMITS.maxTick)) return fail('bad HELLO');
      return { ok: true, msg: { type: C_HELLO, version: a[1], resumeTick: a[2] } };
    case C_INPUT: {
      const [, ack, view, first, flat] = a;
      if (a.length !== 5 || !isUint(ack, LIMITS.maxTick) || !isUint(view, LIMITS.maxTick) || !isUint(first, LIMITS.maxSeq)) {
        return fail('bad INPUT header');
      }
      if (!Array.isArray(flat) || flat.length === 0 || flat.length % 2 !== 0 || flat.length > LIMITS.maxInputsPerMessage * 2) {
        return fail('bad INPUT list');
      }
      const inputs: InputFrame[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const buttons = flat[i];
        const aim = flat[i + 1];
        if (!isUint(buttons, 0xff) || !isUint(aim, 0xffff)) return fail('bad INPUT values');
        inputs.push({ seq: first + i / 2, buttons, aim });
      }
      if (inputs[inputs.length - 1].seq > LIMITS.maxSeq) return fail('INPUT seq overflow');
      return { ok: true, msg: { type: C_INPUT, ackTick: ack, viewTick: view, inputs } };
    }
    case C_ACK:
      if (a.length !== 2 || !isUint(a[1], LIMITS.maxTick)) return fail('bad ACK');
      return { ok: true, msg: { type: C_ACK, ackTick: a[1] } };
    case C_PING:
      if (a.length !== 2 || !isFiniteNum(a[1])) return fail('bad PING');
      return { ok: true, msg: { type: C_PING, clientTime: a[1] } };
    case C_CHAT: {
      if (a.length !== 2 || typeof a[1] !== 'string') return fail('bad CHAT');
      const text = cleanText(a[1], LIMITS.maxChatLength);
      if (text.length === 0) return fail('empty CHAT');
      return { ok: true, msg: { type: C_CHAT, text } };
    }
    default:
      return fail(`unknown message type ${String(a[0]).slice(0, 12)}`);
  }
}

export function encodeServer(msg: ServerMessage): Uint8Array {
  switch (msg.type) {
    case S_WELCOME:
      return encoder.encode([
        S_WELCOME, msg.version, msg.playerId, msg.tickRate, msg.serverTick, msg.room, msg.roster, msg.resumed ? 1 : 0,
        msg.lastSeq, msg.instance, msg.watchers,
      ]);
    case S_SNAPSHOT:
      return frameSnapshot(msg.tick, msg.baseTick, msg.checksum, msg.body, encodeEvents(msg.events));
    case S_PONG: return encoder.encode([S_PONG, msg.clientTime, msg.serverTime]);
    case S_ERROR: return encoder.encode([S_ERROR, msg.code, msg.reason]);
    case S_REDIRECT:
    case S_MOVE: return encoder.encode([msg.type, msg.url, msg.instance, msg.reason]);
  }
}

/** Validates one server → client message (clients and bots trust nothing either). */
export function decodeServer(bytes: Uint8Array): Decoded<ServerMessage> {
  const a = unpack(bytes);
  if (typeof a === 'string') return fail(a);
  switch (a[0]) {
    case S_WELCOME: {
      const [, version, playerId, tickRate, serverTick, room, roster, resumed, lastSeq, instance, watchers] = a;
      if (a.length !== 11 || !isUint(watchers, LIMITS.maxTick) || !isUint(lastSeq, LIMITS.maxSeq) || !isUint(version, 0xffff) || !isUint(playerId, LIMITS.maxTick) || !isUint(tickRate, 1000)
        || !isUint(serverTick, LIMITS.maxTick) || typeof room !== 'string' || !isRoster(roster) || !isUint(resumed, 1)
        || !isInstanceId(instance)) {
        return fail('bad WELCOME');
      }
      return {
        ok: true,
        msg: { type: S_WELCOME, version, playerId, tickRate, serverTick, room, roster, resumed: resumed === 1, lastSeq, instance, watchers },
      };
    }
    case S_SNAPSHOT: {
      const [, tick, baseTick, checksum, body, events] = a;
      if (a.length !== 6 || !isUint(tick, LIMITS.maxTick) || !isUint(baseTick, LIMITS.maxTick) || !isUint(checksum, 0xffffffff)
        || !(body instanceof Uint8Array) || !Array.isArray(events) || !events.every(isEvent)) {
        return fail('bad SNAPSHOT');
      }
      return { ok: true, msg: { type: S_SNAPSHOT, tick, baseTick, checksum, body, events: events as WireEvent[] } };
    }
    case S_PONG:
      if (a.length !== 3 || !isFiniteNum(a[1]) || !isFiniteNum(a[2])) return fail('bad PONG');
      return { ok: true, msg: { type: S_PONG, clientTime: a[1], serverTime: a[2] } };
    case S_ERROR:
      if (a.length !== 3 || !isUint(a[1], 4999) || typeof a[2] !== 'string') return fail('bad ERROR');
      return { ok: true, msg: { type: S_ERROR, code: a[1], reason: a[2] } };
    case S_REDIRECT:
    case S_MOVE:
      if (a.length !== 4 || !isSocketUrl(a[1]) || !isInstanceId(a[2]) || !isStr(a[3])) return fail(`bad ${a[0] === S_MOVE ? 'MOVE' : 'REDIRECT'}`);
      return { ok: true, msg: { type: a[0], url: a[1], instance: a[2], reason: a[3] } };
    default:
      return fail(`unknown message type ${String(a[0]).slice(0, 12)}`);
  }
}
