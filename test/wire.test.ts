/**
 * load-test/wire.ts, the bots' WebSocket client: against the real uWS server (open,
 * WELCOME and snapshots, a refused upgrade, the server's close code and reason), and
 * against a hand-rolled server on a raw socket, whose frames are fed to the parser in
 * any pieces (byte by byte, several per read) and which records what the client answers.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { loopbackTarget, UnexpectedResponse, Wire, type WireHandlers } from '../load-test/wire.ts';
import { type ClientEvent, NetClient } from '../netcode/client.ts';
import { CLOSE_NO_HELLO } from '../netcode/protocol.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { getToken } from './helpers/net.ts';
import { Waits } from './helpers/waits.ts';

/** A Wire whose callbacks are recorded. */
class Recorder extends Waits {
  opened = false;
  readonly messages: { data: Buffer; binary: boolean }[] = [];
  readonly errors: Error[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly wire: Wire;

  constructor(url: string, opts: { origin?: string } = {}) {
    super();
    const h: WireHandlers = {
      onOpen: () => { this.opened = true; this.wake(); },
      onMessage: (data, binary) => { this.messages.push({ data, binary }); this.wake(); },
      onClose: (code, reason) => { this.closed = { code, reason }; this.wake(); },
      onError: (err) => { this.errors.push(err); this.wake(); },
    };
    this.wire = new Wire(url, h, opts);
  }
}

// --- the real server ---------------------------------------------------------------------------

let srv: RunningServer;
let base: string;
let wsBase: string;

beforeAll(async () => {
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 'wire-secret', npcCount: 0, viewRadius: 0 }));
  base = `http://127.0.0.1:${srv.port}`;
  wsBase = `ws://127.0.0.1:${srv.port}/ws`;
});
afterAll(async () => { await srv?.close(); });

describe('wire against the real server', () => {
  it('opens, gets WELCOME then snapshots that NetClient decodes, answers PING, closes normally', async () => {
    const r = new Recorder(`${wsBase}?room=WIREA&token=${await getToken(base, 'Wyn')}`);
    const net = new NetClient(ARENA_SCHEMA);
    const events: ClientEvent[] = [];
    const decode = () => { while (events.length < r.messages.length) events.push(net.receive(r.messages[events.length].data, 0)); };
    await r.until(() => r.opened, 'open');
    r.wire.send(net.hello());
    await r.until(() => { decode(); return events.filter((e) => e.kind === 'snapshot').length >= 3; }, '3 snapshots');
    expect(events[0].kind).toBe('welcome');
    expect(net.playerId).toBeGreaterThan(0);
    expect(net.stats.desyncs + net.stats.decodeErrors).toBe(0);
    expect(r.messages.every((m) => m.binary)).toBe(true);

    r.wire.send(net.ping(1234.5));
    await r.until(() => { decode(); return events.find((e) => e.kind === 'pong'); }, 'PONG');
    expect(events.find((e) => e.kind === 'pong')).toMatchObject({ clientTime: 1234.5 });

    r.wire.close(1000, 'bye');
    expect(r.wire.isOpen).toBe(false);
    expect(await r.until(() => r.closed, 'close')).toEqual({ code: 1000, reason: 'bye' });
    expect(r.errors).toEqual([]);
  });

  it('reports a refused upgrade (foreign Origin) with its status and body, and never opens', async () => {
    const r = new Recorder(`${wsBase}?room=WIREB&token=${await getToken(base, 'Eve')}`, { origin: 'https://evil.example' });
    await r.until(() => r.closed, 'close');
    expect(r.opened).toBe(false);
    expect(r.errors).toHaveLength(1);
    const err = r.errors[0] as UnexpectedResponse;
    expect(err).toBeInstanceOf(UnexpectedResponse);
    expect(err.status).toBe(403);
    expect(err.body).toBe('origin https://evil.example is not allowed');
    expect(err.message).toBe('unexpected response: HTTP 403 origin https://evil.example is not allowed');
    expect(r.closed).toEqual({ code: 1006, reason: '' });
  });

  it('delivers the server’s close code and reason intact (a first message that is not HELLO)', async () => {
    const r = new Recorder(`${wsBase}?room=WIREC&token=${await getToken(base, 'Nob')}`);
    const net = new NetClient(ARENA_SCHEMA);
    await r.until(() => r.opened, 'open');
    r.wire.send(net.ping(0));
    expect(await r.until(() => r.closed, 'close')).toEqual({ code: CLOSE_NO_HELLO, reason: 'first message must be HELLO' });
    expect(net.receive(r.messages[r.messages.length - 1].data, 0)).toMatchObject({ kind: 'error', code: CLOSE_NO_HELLO });
    expect(r.errors).toEqual([]);
  });
});

// --- a hand-rolled server on a raw socket ------------------------------------------------------

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptFor = (key: string) => createHash('sha1').update(key + GUID).digest('base64');
const switching = (accept: string) =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;

/** A server frame (never masked), with the 7-, 16- or 64-bit length its size needs. */
function frame(op: number, payload: Buffer | string, fin = true): Buffer {
  const p = Buffer.from(payload);
  const head = Buffer.alloc(p.length < 126 ? 2 : p.length < 0x10000 ? 4 : 10);
  head[0] = (fin ? 0x80 : 0) | op;
  if (p.length < 126) head[1] = p.length;
  else if (p.length < 0x10000) {
    head[1] = 126;
    head.writeUInt16BE(p.length, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(p.length), 2);
  }
  return Buffer.concat([head, p]);
}

const closePayload = (code: number, reason: string) => Buffer.concat([Buffer.of(code >> 8, code & 0xff), Buffer.from(reason)]);

interface ClientFrame { op: number; fin: boolean; masked: boolean; payload: Buffer }

/** A raw-socket server: answers the upgrade with `reply(key)`, then records the client's frames, unmasked. */
class FakeServer extends Waits {
  readonly frames: ClientFrame[] = [];
  ended = false;
  socket: net.Socket | null = null;
  private readonly server: net.Server;
  private buf = Buffer.alloc(0);

  constructor(reply: (key: string) => Buffer | string) {
    super();
    this.server = net.createServer((s) => {
      this.socket = s;
      let upgraded = false;
      s.on('data', (c) => {
        this.buf = Buffer.concat([this.buf, c]);
        if (!upgraded) {
          const end = this.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const key = /^sec-websocket-key: *(\S+)/im.exec(this.buf.toString('latin1', 0, end))?.[1] ?? '';
          this.buf = this.buf.subarray(end + 4);
          upgraded = true;
          s.write(reply(key));
        }
        this.parse();
        this.wake();
      });
      s.on('end', () => { this.ended = true; s.end(); this.wake(); });
      s.on('error', () => {});
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(`ws://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/ws?x=1`)));
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }

  private parse(): void {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) [len, at] = [b.length >= 4 ? b.readUInt16BE(2) : Infinity, 4];
      else if (len === 127) [len, at] = [b.length >= 10 ? Number(b.readBigUInt64BE(2)) : Infinity, 10];
      const key = masked ? b.subarray(at, at + 4) : Buffer.alloc(4);
      const start = at + (masked ? 4 : 0);
      if (b.length < start + len) return;
      const payload = Buffer.from(b.subarray(start, start + len)).map((x, i) => x ^ key[i % 4]);
      this.frames.push({ op: b[0] & 0x0f, fin: (b[0] & 0x80) !== 0, masked, payload: Buffer.from(payload) });
      this.buf = b.subarray(start + len);
    }
  }
}

const fakes: FakeServer[] = [];
async function fake(reply: (key: string) => Buffer | string = (key) => switching(acceptFor(key))): Promise<{ server: FakeServer; url: string }> {
  const server = new FakeServer(reply);
  fakes.push(server);
  return { server, url: await server.listen() };
}
afterEach(() => { for (const f of fakes.splice(0)) f.close(); });

describe('wire frame parser (hand-rolled server)', () => {
  it('parses a stream fed byte by byte: 16- and 64-bit lengths, fragments, a ping in between answered, a close echoed', async () => {
    const { server, url } = await fake();
    const r = new Recorder(url);
    await r.until(() => r.opened, 'open');
    const text = 'x'.repeat(200) + 'y'.repeat(100);
    const big = Buffer.alloc(70_000, 7);
    const stream = Buffer.concat([
      frame(0x2, 'hello'),
      frame(0x1, text.slice(0, 200), false), // 16-bit length, no FIN
      frame(0x9, 'hi'), // a ping between two fragments
      frame(0x0, text.slice(200)), // continuation with FIN
      frame(0x2, big), // 64-bit length
      frame(0x8, closePayload(4003, 'bad input')),
    ]);
    for (let i = 0; i < stream.length; i++) r.wire.read(Buffer.of(stream[i]));

    expect(r.messages.map((m) => [m.binary, m.data.length])).toEqual([[true, 5], [false, 300], [true, 70_000]]);
    expect(r.messages[0].data.toString()).toBe('hello');
    expect(r.messages[1].data.toString()).toBe(text);
    expect(r.messages[2].data.equals(big)).toBe(true);
    expect(r.closed).toEqual({ code: 4003, reason: 'bad input' });
    await server.until(() => server.frames.length >= 2 && server.ended, 'pong, close and end');
    expect(server.frames.map((f) => [f.op, f.fin, f.masked])).toEqual([[0xa, true, true], [0x8, true, true]]);
    expect(server.frames[0].payload.toString()).toBe('hi');
    expect(server.frames[1].payload.readUInt16BE(0)).toBe(4003);
    expect(r.errors).toEqual([]);
  });

  it('delivers several frames of one read as views of that chunk, frames sent with the 101 too', async () => {
    const { server, url } = await fake((key) => Buffer.concat([Buffer.from(switching(acceptFor(key))), frame(0x2, 'early')]));
    const r = new Recorder(url);
    await r.until(() => r.messages.length === 1, 'the frame sent with the 101');
    expect(r.messages[0].data.toString()).toBe('early');

    const chunk = Buffer.concat([frame(0x2, 'one'), frame(0x2, 'two'), frame(0x9, ''), frame(0x2, 'three')]);
    r.wire.read(chunk);
    expect(r.messages.slice(1).map((m) => m.data.toString())).toEqual(['one', 'two', 'three']);
    for (const m of r.messages.slice(1)) expect(m.data.buffer).toBe(chunk.buffer); // no copy

    r.wire.send(Uint8Array.of(1, 2, 3));
    await server.until(() => server.frames.length >= 2, 'pong and message');
    expect(server.frames.map((f) => [f.op, [...f.payload]])).toEqual([[0xa, []], [0x2, [1, 2, 3]]]);
  });

  it('reports 1006 when the socket ends without a close frame', async () => {
    const { server, url } = await fake();
    const r = new Recorder(url);
    await r.until(() => r.opened, 'open');
    server.socket?.destroy();
    expect(await r.until(() => r.closed, 'close')).toEqual({ code: 1006, reason: '' });
  });

  it('hangs up by itself when the peer never answers its close frame', async () => {
    const { server, url } = await fake(); // records frames, answers nothing
    const r = new Recorder(url);
    await r.until(() => r.opened, 'open');
    r.wire.close(1000, 'bye');
    await server.until(() => server.frames.find((f) => f.op === 0x8), 'our close frame');
    const t0 = performance.now();
    expect(await r.until(() => r.closed, 'close')).toEqual({ code: 1006, reason: '' });
    expect(performance.now() - t0).toBeGreaterThan(500); // the close timeout (1 s of silence), not at once
  });

  it('refuses a wrong Sec-WebSocket-Accept, a masked server frame and an oversized length', async () => {
    const bad = await fake(() => switching('bm90IHRoZSByaWdodCBvbmU='));
    const a = new Recorder(bad.url);
    await a.until(() => a.closed, 'close');
    expect(a.opened).toBe(false);
    expect(a.errors.map((e) => e.message)).toEqual(['wire: wrong Sec-WebSocket-Accept']);

    const { url } = await fake();
    const b = new Recorder(url);
    await b.until(() => b.opened, 'open');
    b.wire.read(Buffer.of(0x82, 0x81, 0, 0, 0, 0, 1)); // MASK bit set
    await b.until(() => b.closed, 'close');
    expect(b.errors.map((e) => e.message)).toEqual(['wire: reserved bits or mask set on a server frame']);
    expect(b.closed?.code).toBe(1006);

    const c = new Recorder(url);
    await c.until(() => c.opened, 'open');
    c.wire.read(Buffer.of(0x82, 127, 0, 0, 0, 1, 0, 0, 0, 5)); // 64-bit length 2^32 + 5
    await c.until(() => c.closed, 'close');
    expect(c.errors.map((e) => e.message)).toEqual([`wire: frame of ${2 ** 32 + 5} bytes`]);
  });

  it('refuses anything but ws:// or wss:// to loopback', () => {
    const h: WireHandlers = { onOpen() {}, onMessage() {}, onClose() {}, onError() {} };
    for (const url of ['ws://example.com/ws', 'ws://10.0.0.1:8080/ws', 'ws://[2001:db8::1]/ws', 'ws://128.0.0.1/ws', 'wss://example.com/ws']) {
      expect(() => new Wire(url, h)).toThrow(/load tests only target loopback/);
    }
    expect(() => new Wire('http://127.0.0.1/ws', h)).toThrow(/only ws:\/\/ and wss:\/\//);
    expect(loopbackTarget('ws://127.1.2.3:9/ws?room=ABCDE')).toEqual({ host: '127.1.2.3', port: 9, hostHeader: '127.1.2.3:9', path: '/ws?room=ABCDE', tls: false });
    expect(loopbackTarget('wss://localhost/ws')).toMatchObject({ port: 443, tls: true });
    expect(loopbackTarget('ws://[::1]:8080/ws').host).toBe('::1');
    expect(loopbackTarget('ws://localhost/').port).toBe(80);
  });
});
