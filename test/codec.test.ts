import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClient, decodeServer, encodeClient, encodeServer, inputBatch, readInput } from '../netcode/codec.ts';
import {
  C_ACK, C_CHAT, C_HELLO, C_INPUT, C_PING, type ClientMessage, LIMITS, PROTOCOL_VERSION, S_ERROR, S_PONG, S_SNAPSHOT,
  S_REDIRECT, S_WELCOME, type ServerMessage,
} from '../netcode/protocol.ts';
import { cleanText } from '../netcode/text.ts';

const clientSamples: ClientMessage[] = [
  { type: C_HELLO, version: PROTOCOL_VERSION, resumeTick: 0 },
  { type: C_HELLO, version: PROTOCOL_VERSION, resumeTick: 123456 },
  { type: C_INPUT, ackTick: 77, viewTick: 70, inputs: [{ seq: 9, buttons: 17, aim: 65535 }, { seq: 10, buttons: 0, aim: 0 }] },
  { type: C_ACK, ackTick: 4_000_000_000 },
  { type: C_PING, clientTime: 12345.678 },
  { type: C_CHAT, text: 'gg wp 🎉' },
];

const serverSamples: ServerMessage[] = [
  { type: S_WELCOME, version: 1, playerId: 7, tickRate: 30, serverTick: 999, room: 'ABCDE', roster: [[7, 'Ada', 1], [9, 'Bob', 0]], resumed: true, lastSeq: 41, instance: 'eu-1', watchers: 3 },
  { type: S_REDIRECT, url: 'wss://play.example.com/i/b/ws', instance: 'b', reason: 'room ABCDE lives on instance b' },
  { type: S_SNAPSHOT, tick: 70000, baseTick: 69998, checksum: 0xdeadbeef, body: new Uint8Array([1, 2, 3]), events: [[5, 7, 'hi'], [6, 7, 9]] },
  { type: S_SNAPSHOT, tick: 5, baseTick: 0, checksum: 0, body: new Uint8Array(300).fill(7), events: [] },
  { type: S_PONG, clientTime: 1.5, serverTime: 3333.25 },
  { type: S_ERROR, code: 4003, reason: 'bad INPUT' },
];

describe('codec round trips', () => {
  it.each(clientSamples)('client message type $type', (msg) => {
    const d = decodeClient(encodeClient(msg));
    expect(d).toEqual({ ok: true, msg });
  });

  it.each(serverSamples)('server message type $type', (msg) => {
    const d = decodeServer(encodeServer(msg));
    expect(d.ok).toBe(true);
    expect(d.ok && d.msg).toEqual(msg);
  });

  it('frames snapshots with the smallest msgpack integers', () => {
    const bytes = encodeServer({ type: S_SNAPSHOT, tick: 100, baseTick: 99, checksum: 7, body: new Uint8Array([0]), events: [] });
    // fixarray(6), 17, tick 100, base 99, checksum 7, bin8 len 1 0x00, fixarray 0
    expect([...bytes]).toEqual([0x96, 17, 100, 99, 7, 0xc4, 1, 0, 0x90]);
  });
});

describe('client message validation', () => {
  const bad: [string, unknown[]][] = [
    ['unknown type', [99]],
    ['HELLO with a string version', [C_HELLO, '1', 0]],
    ['INPUT with a negative ack', [C_INPUT, -1, 0, 1, [0, 0]]],
    ['INPUT with too many inputs', [C_INPUT, 0, 0, 1, new Array(2 * LIMITS.maxInputsPerMessage + 2).fill(0)]],
    ['INPUT with an odd list', [C_INPUT, 0, 0, 1, [0]]],
    ['INPUT with a float aim', [C_INPUT, 0, 0, 1, [0, 1.5]]],
    ['INPUT with buttons out of range', [C_INPUT, 0, 0, 1, [256, 0]]],
    ['PING with NaN', [C_PING, Number.NaN]],
    ['CHAT of only control characters', [C_CHAT, '\u0000\u0007']],
    ['CHAT of a number', [C_CHAT, 5]],
    ['ACK with extra fields', [C_ACK, 1, 2]],
  ];
  it.each(bad)('rejects %s', (_name, arr) => {
    const d = decodeClient(encode(arr));
    expect(d.ok).toBe(false);
    expect(!d.ok && d.reason.length).toBeGreaterThan(0);
  });

  it('rejects non-array and oversized messages', () => {
    expect(decodeClient(encode({ type: 1 })).ok).toBe(false);
    expect(decodeClient(new Uint8Array(LIMITS.maxMessageBytes + 1)).ok).toBe(false);
  });

  it('cleans chat text: control characters out, length bounded', () => {
    const d = decodeClient(encode([C_CHAT, `a\u202eb\nc${'x'.repeat(500)}`]));
    expect(d.ok && d.msg.type === C_CHAT && d.msg.text.startsWith('a b c')).toBe(true);
    expect(d.ok && d.msg.type === C_CHAT && [...d.msg.text].length).toBe(LIMITS.maxChatLength);
    expect(cleanText('  <b>x</b>  ', 16)).toBe('<b>x</b>'); // kept as text; clients never render it as HTML
  });
});

describe('server message validation', () => {
  const snap = (events: unknown[]) => encode([S_SNAPSHOT, 2, 1, 0, new Uint8Array([0]), events]);
  it.each([
    ['a roster that is not a list', [[10, 'x']]],
    ['a join without a name', [[1, 5]]],
    ['an unknown event kind', [[99, 1]]],
    ['a chat from a negative id', [[5, -1, 'hi']]],
  ])('rejects a snapshot carrying %s', (_name, events) => {
    expect(decodeServer(snap(events)).ok).toBe(false);
  });
  it('accepts well-formed events', () => {
    expect(decodeServer(snap([[1, 5, 'Ada'], [10, [[5, 'Ada', 1]]], [11, 'slow down']])).ok).toBe(true);
  });
});

describe('decoders never throw (fast-check)', () => {
  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      expect(() => decodeClient(bytes)).not.toThrow();
      expect(() => decodeServer(bytes)).not.toThrow();
    }), { numRuns: 3000 });
  });

  it('on mutated valid messages', () => {
    const valid = [...clientSamples.map(encodeClient), ...serverSamples.map(encodeServer)];
    const mutation = fc.record({
      which: fc.nat(valid.length - 1),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      cut: fc.nat(),
    });
    fc.assert(fc.property(mutation, ({ which, edits, cut }) => {
      const b = valid[which].slice();
      for (const [pos, v] of edits) b[pos % b.length] = v;
      const m = b.subarray(0, b.length - (cut % 3));
      const c = decodeClient(m);
      const s = decodeServer(m);
      // Whatever comes back is either an error with a reason or a fully typed message.
      expect(c.ok || (typeof c.reason === 'string')).toBe(true);
      expect(s.ok || (typeof s.reason === 'string')).toBe(true);
    }), { numRuns: 3000 });
  });

  it('on random msgpack values', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer())), { maxLength: 10 }), (arr) => {
      expect(() => decodeClient(encode(arr))).not.toThrow();
      expect(() => decodeServer(encode(arr))).not.toThrow();
    }), { numRuns: 2000 });
  });
});

describe('the server\'s INPUT fast path (readInput)', () => {
  /** What decodeClient makes of it, in readInput's shape; null when it is not a valid INPUT. */
  function viaDecoder(bytes: Uint8Array) {
    const d = decodeClient(bytes);
    if (!d.ok || d.msg.type !== C_INPUT) return null;
    const { ackTick, viewTick, inputs } = d.msg;
    return { ackTick, viewTick, firstSeq: inputs[0].seq, buttons: inputs.map((i) => i.buttons), aims: inputs.map((i) => i.aim) };
  }
  function viaFastPath(bytes: Uint8Array) {
    const b = inputBatch();
    if (!readInput(bytes, b)) return null;
    return {
      ackTick: b.ackTick, viewTick: b.viewTick, firstSeq: b.firstSeq,
      buttons: [...b.buttons.subarray(0, b.count)], aims: [...b.aims.subarray(0, b.count)],
    };
  }
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const input = fc.record({
    ackTick: u32, viewTick: u32, seq: fc.integer({ min: 0, max: 0xffffffff - 8 }),
    frames: fc.array(fc.tuple(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff })), { minLength: 1, maxLength: LIMITS.maxInputsPerMessage }),
  });
  const encodeInput = (i: { ackTick: number; viewTick: number; seq: number; frames: [number, number][] }) => encodeClient({
    type: C_INPUT, ackTick: i.ackTick, viewTick: i.viewTick, inputs: i.frames.map(([buttons, aim], k) => ({ seq: i.seq + k, buttons, aim })),
  });

  it('reads every INPUT the client encodes, exactly as the decoder does', () => {
    fc.assert(fc.property(input, (i) => {
      const bytes = encodeInput(i);
      expect(viaFastPath(bytes)).not.toBeNull();
      expect(viaFastPath(bytes)).toEqual(viaDecoder(bytes));
    }), { numRuns: 2000 });
  });

  it('never accepts what the decoder refuses, nor reads it differently (mutated bytes, other encodings)', () => {
    const mutated = fc.tuple(input, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat());
    fc.assert(fc.property(mutated, ([i, edits, cut]) => {
      const b = encodeInput(i).slice();
      for (const [pos, v] of edits) b[pos % b.length] = v;
      const m = b.subarray(0, b.length - (cut % 3));
      const fast = viaFastPath(m);
      if (fast !== null) expect(fast).toEqual(viaDecoder(m));
    }), { numRuns: 5000 });
    // Valid msgpack the fast path leaves to the decoder: a uint64 tick, a 32-bit array header.
    const odd = [
      new Uint8Array([0x95, C_INPUT, 0xcf, 0, 0, 0, 0, 0, 0, 0, 5, 1, 1, 0x92, 0, 0]),
      new Uint8Array([0x95, C_INPUT, 5, 1, 1, 0xdd, 0, 0, 0, 2, 0, 0]),
    ];
    for (const m of odd) {
      expect(viaFastPath(m)).toBeNull();
      expect(viaDecoder(m)).not.toBeNull();
    }
  });
});
