/**
 * The SSE transport's pure pieces (netcode/sse.ts: event-stream parser, u16 framing,
 * base64, URL mapping) and SseSocket against a small in-test node:http server that speaks
 * the contract in protocol.ts's header (a fake: the real one is server/sse.ts, exercised
 * by load-test-sse.test.ts), and the load test's SseWire (load-test/transport.ts) on the same fake.
 * Tests wait on events, never on sleeps.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_BAD_MESSAGE, CLOSE_ROOM_CLOSED, CLOSE_ROOM_FULL, CLOSE_TRY_AGAIN, FINAL_CLOSE_CODES } from '../netcode/protocol.ts';
import { ReconnectingSocket } from '../netcode/socket.ts';
import {
  fromBase64, frameMessages, parseCloseData, type SseEvent, SseParser, sseData, sseEndpoints, sseNamed, splitMessages, toBase64,
} from '../netcode/sse.ts';
import { SseConnector } from '../netcode/sseconnector.ts';
import { closeCodeForStatus } from '../netcode/sserefusal.ts';
import { SseSocket } from '../netcode/ssesocket.ts';
import { openSocket } from '../load-test/transport.ts';
import { UnexpectedResponse } from '../load-test/wire.ts';

const feedAll = (chunks: string[]): SseEvent[] => {
  const p = new SseParser();
  return chunks.flatMap((c) => p.feed(c));
};

describe('SseParser', () => {
  const stream = 'event: open\ndata: c1\n\n: ping\n\nid: 7\ndata: AQID\n\ndata: a\ndata:b\ndata:  c\n\nevent: close\ndata: 4006 room closed\n\n';
  const expected: SseEvent[] = [
    { event: 'open', data: 'c1', id: undefined },
    { event: 'message', data: 'AQID', id: '7' },
    { event: 'message', data: 'a\nb\n c', id: undefined },
    { event: 'close', data: '4006 room closed', id: undefined },
  ];

  it('parses events, ids, comments and multi-line data', () => {
    const p = new SseParser();
    expect(p.feed(stream)).toEqual(expected);
    expect(p.comments).toBe(1);
    expect(p.lastEventId).toBe('7');
  });

  it('gives the same events however the stream is split, with LF, CRLF or CR line ends', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const s = stream.replaceAll('\n', eol);
      for (let i = 0; i <= s.length; i++) expect(feedAll([s.slice(0, i), s.slice(i)])).toEqual(expected);
      expect(feedAll([...s])).toEqual(expected); // one character at a time: a CRLF split across chunks is one line end
    }
    fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 8 }), (cuts) => {
      const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
      const crlf = stream.replaceAll('\n', '\r\n');
      const pieces = at.slice(1).map((end, i) => crlf.slice(Math.min(at[i] * 2, crlf.length), Math.min(end * 2, crlf.length)));
      expect(feedAll(pieces)).toEqual(expected);
    }));
  });

  it('follows the WHATWG rules at the edges', () => {
    expect(feedAll(['\ufeffdata: x\n\n'])).toEqual([{ event: 'message', data: 'x', id: undefined }]); // BOM dropped
    expect(feedAll(['event: open\n\n', 'data: y\n\n'])).toEqual([{ event: 'message', data: 'y', id: undefined }]); // no data: not sent, type reset
    expect(feedAll(['data\n\n'])).toEqual([{ event: 'message', data: '', id: undefined }]); // field without a colon
    expect(feedAll(['data: no end yet'])).toEqual([]); // an event without its blank line is not dispatched
    expect(feedAll(['foo: bar\ndata: z\n\n'])).toEqual([{ event: 'message', data: 'z', id: undefined }]);
    const p = new SseParser();
    p.feed('id: a\0b\nretry: 15x\nretry: 2500\ndata: q\n\n');
    expect([p.lastEventId, p.retry]).toEqual(['', 2500]);
    expect(() => new SseParser(16).feed('data: 0123456789abcdef')).toThrow(/over 16/);
    expect(() => new SseParser(16).feed('data: 0123456789abcdef\n')).toThrow(/over 16/);
  });

  it('reads what sseData and sseNamed write', () => {
    const bytes = new Uint8Array([17, 0, 255, 1, 2]);
    const [a, b] = feedAll([sseData(bytes, 42), sseNamed('close', '4003 bad\nmessage')]);
    expect(a).toEqual({ event: 'message', data: toBase64(bytes), id: '42' });
    expect(fromBase64(a.data)).toEqual(bytes);
    expect(b).toEqual({ event: 'close', data: '4003 bad\nmessage', id: undefined });
    expect(sseData(bytes)).toBe(`data: ${Buffer.from(bytes).toString('base64')}\n\n`);
    expect(() => sseNamed('a\nb', 'x')).toThrow(/one line/);
    expect(parseCloseData('4006 room closed')).toEqual({ code: 4006, reason: 'room closed' });
    expect(parseCloseData('1000')).toEqual({ code: 1000, reason: '' });
    expect([parseCloseData('oops'), parseCloseData('999 x'), parseCloseData('5000 x')]).toEqual([null, null, null]);
  });
});

describe('framing and base64', () => {
  it('frameMessages / splitMessages round-trip', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 600 }), { minLength: 1, maxLength: 20 }), (list) => {
      const body = frameMessages(list);
      expect(body.length).toBe(list.reduce((n, m) => n + 2 + m.length, 0));
      expect(splitMessages(body)?.map((m) => [...m])).toEqual(list.map((m) => [...m]));
    }));
    const big = new Uint8Array(0xffff).fill(7);
    expect(splitMessages(frameMessages([big]))?.[0].length).toBe(0xffff);
    expect([...frameMessages([new Uint8Array([9, 8, 7])])]).toEqual([0, 3, 9, 8, 7]);
  });

  it('refuses malformed bodies with null, never a throw', () => {
    const ok = frameMessages([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    expect(splitMessages(new Uint8Array(0))).toBeNull(); // empty
    expect(splitMessages(ok.subarray(0, 1))).toBeNull(); // half a length
    expect(splitMessages(ok.subarray(0, 4))).toBeNull(); // body cut short
    expect(splitMessages(ok.subarray(0, ok.length - 1))).toBeNull(); // the second one cut short
    expect(splitMessages(new Uint8Array([...ok, 0]))).toBeNull(); // a dangling byte
    expect(splitMessages(new Uint8Array([0, 0, 0, 1, 5]))).toBeNull(); // a zero length
    expect(splitMessages(frameMessages(Array.from({ length: 5 }, () => new Uint8Array([1]))), 4)).toBeNull(); // too many
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
      const parts = splitMessages(junk);
      if (parts) expect(frameMessages(parts)).toEqual(junk); // whatever it accepts is exactly a framing
    }));
    expect(() => frameMessages([new Uint8Array(0)])).toThrow(/cannot be framed/);
    expect(() => frameMessages([new Uint8Array(0x10000)])).toThrow(/cannot be framed/);
  });

  it('base64 equals Buffer\'s and refuses junk', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const s = toBase64(b);
      expect(s).toBe(Buffer.from(b).toString('base64'));
      expect(fromBase64(s)).toEqual(b);
    }));
    for (const bad of ['A', 'AB=C', 'A===', '****', 'AQ=D', 'AQID\n', 'AQ==AQ==', 'é123']) expect(fromBase64(bad)).toBeNull();
  });
});

describe('sseEndpoints', () => {
  it('maps the WebSocket URL a client would open, standalone and behind the cluster\'s nginx', () => {
    const a = sseEndpoints('ws://127.0.0.1:8080/ws?room=ABCD&token=t.1');
    expect(a.events).toBe('http://127.0.0.1:8080/api/rooms/ABCD/events?token=t.1');
    expect(a.send('c9')).toBe('http://127.0.0.1:8080/api/rooms/ABCD/send?conn=c9&token=t.1');
    const b = sseEndpoints('wss://game.example/i/b/ws?room=R&token=T&spectate=1');
    expect(b.events).toBe('https://game.example/i/b/api/rooms/R/events?token=T&spectate=1');
    expect(b.send('7')).toBe('https://game.example/i/b/api/rooms/R/send?conn=7&token=T');
    expect(() => sseEndpoints('ws://h/ws?token=T')).toThrow(/no room/);
    expect(() => sseEndpoints('ws://h/socket?room=R')).toThrow(/end in \/ws/);
    expect(() => sseEndpoints('ftp://h/ws?room=R')).toThrow(/not a ws/);
  });

  it('maps refusal statuses to close codes the client treats as final only where retrying cannot help', () => {
    for (const s of [400, 401, 403, 404, 409]) expect(FINAL_CLOSE_CODES.has(closeCodeForStatus(s))).toBe(true);
    for (const s of [429, 500, 502, 503, 418]) expect(FINAL_CLOSE_CODES.has(closeCodeForStatus(s))).toBe(false);
    expect([closeCodeForStatus(401), closeCodeForStatus(404), closeCodeForStatus(409), closeCodeForStatus(429)])
      .toEqual([CLOSE_BAD_MESSAGE, CLOSE_ROOM_CLOSED, CLOSE_ROOM_FULL, CLOSE_TRY_AGAIN]);
  });
});

/**
 * A fake SSE server: GET …/events opens a stream (or refuses, per `refuse`), POST …/send
 * records the framed messages. Each stream is an object the test drives.
 */
interface FakeStream {
  conn: string;
  req: IncomingMessage;
  res: ServerResponse;
  lastEventId: string | undefined;
  url: URL;
  closed: Promise<void>;
}

class FakeSseServer {
  readonly server: Server;
  readonly streams: FakeStream[] = [];
  readonly posts: { conn: string; messages: number[][] }[] = [];
  refuse: { status: number; body: string; headers?: Record<string, string> } | null = null;
  /** When set, a POST waits for this before its answer. */
  hold: Promise<void> | null = null;
  postStatus = 204;
  private waiters: (() => void)[] = [];
  private next = 1;

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  wsUrl(room = 'ROOM', extra = ''): string {
    return `ws://127.0.0.1:${this.port}/ws?room=${room}&token=tok${extra}`;
  }

  /** Resolves once `pred` holds (checked after every request). */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (pred() ? resolve() : this.waiters.push(check));
      this.waiters.push(check);
    });
  }

  private changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname.endsWith('/events')) {
      if (this.refuse) {
        res.writeHead(this.refuse.status, { 'content-type': 'text/plain', ...this.refuse.headers });
        res.end(this.refuse.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      const conn = `c${this.next++}`;
      const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      const header = req.headers['last-event-id'];
      this.streams.push({ conn, req, res, url, lastEventId: typeof header === 'string' ? header : undefined, closed });
      res.write(`: hello\n\n${sseNamed('open', conn)}`);
      this.changed();
    } else if (req.method === 'POST' && url.pathname.endsWith('/send')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = new Uint8Array(Buffer.concat(chunks));
        const conn = url.searchParams.get('conn') ?? '';
        const parts = splitMessages(body);
        if (req.headers['content-type'] !== 'application/octet-stream' || !parts || url.searchParams.get('token') !== 'tok') {
          res.writeHead(400).end('bad body');
        } else {
          this.posts.push({ conn, messages: parts.map((m) => [...m]) });
          this.changed();
          if (this.hold) await this.hold;
          res.writeHead(this.postStatus).end(this.postStatus === 204 ? undefined : 'no such connection');
        }
        this.changed();
      });
    } else {
      res.writeHead(404).end();
    }
  }
}

/** The events one socket reports, in order, and a way to wait for the next ones. */
function watch(ws: SseSocket) {
  const log: string[] = [];
  const messages: number[][] = [];
  let waiters: (() => void)[] = [];
  const push = (s: string) => {
    log.push(s);
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  ws.onopen = () => push('open');
  ws.onmessage = (ev) => {
    messages.push([...new Uint8Array(ev.data as ArrayBuffer)]);
    push('message');
  };
  ws.onclose = (ev) => push(`close ${ev.code} ${ev.reason}`);
  ws.onerror = (ev) => push(`error ${(ev as { status: number }).status}`);
  const until = (pred: () => boolean) => new Promise<void>((resolve) => {
    const check = () => (pred() ? resolve() : waiters.push(check));
    check();
  });
  return { log, messages, until, closed: () => until(() => log.some((l) => l.startsWith('close'))) };
}

describe('SseSocket against a fake server', () => {
  const fake = new FakeSseServer();

  beforeAll(() => new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => {
    fake.server.closeAllConnections();
    fake.server.close(() => resolve());
  }));

  it('opens on the open event, delivers messages as ArrayBuffers, keeps the snapshot id, and reports the server\'s close', async () => {
    const ws = new SseSocket(fake.wsUrl('R1', '&spectate=1'));
    const w = watch(ws);
    expect(ws.readyState).toBe(0);
    expect(() => ws.send(new Uint8Array([1]))).toThrow(/before open/);
    await w.until(() => w.log.includes('open'));
    const s = fake.streams.at(-1)!;
    expect(s.url.pathname).toBe('/api/rooms/R1/events');
    expect(s.url.searchParams.get('spectate')).toBe('1');
    expect([ws.readyState, ws.conn]).toEqual([1, s.conn]);
    s.res.write(`${sseData(new Uint8Array([0x96, 16, 5]))}: ping\r\n\r\n${sseData(new Uint8Array([0x96, 17, 1, 2]), 123)}`);
    await w.until(() => w.messages.length === 2);
    expect(w.messages).toEqual([[0x96, 16, 5], [0x96, 17, 1, 2]]);
    expect(ws.lastEventId).toBe('123');
    s.res.end(sseNamed('close', '4006 room closed'));
    await w.closed();
    expect(w.log.at(-1)).toBe('close 4006 room closed');
    expect(ws.readyState).toBe(3);
  });

  it('batches the sends of one JS turn into one POST, one POST in flight at a time, and counts the bytes pending', async () => {
    const ws = new SseSocket(fake.wsUrl());
    const w = watch(ws);
    await w.until(() => w.log.includes('open'));
    const conn = ws.conn;
    const mine = () => fake.posts.filter((p) => p.conn === conn);
    let release!: () => void;
    fake.hold = new Promise((r) => { release = r; });
    const buf = new Uint8Array([1, 5, 1]);
    ws.send(buf);
    buf[2] = 99; // send copies: the caller may reuse its buffer at once
    ws.send(new Uint8Array([4, 9]));
    ws.send(new Uint8Array([3, 7, 7, 7]));
    expect(ws.bufferedAmount).toBe(9);
    await fake.until(() => mine().length === 1);
    expect(mine()[0].messages).toEqual([[1, 5, 1], [4, 9], [3, 7, 7, 7]]);
    ws.send(new Uint8Array([2, 1])); // while the first POST is held: queued, not sent
    await Promise.resolve();
    ws.send(new Uint8Array([2, 2])); // a later turn, still held: joins the same next POST
    expect(ws.bufferedAmount).toBe(9 + 4);
    fake.hold = null;
    release();
    await fake.until(() => mine().length === 2);
    expect(mine()[1].messages).toEqual([[2, 1], [2, 2]]);
    for (let i = 0; i < 1000 && ws.bufferedAmount > 0; i++) await new Promise((r) => setImmediate(r)); // the answer's I/O turn
    expect(ws.bufferedAmount).toBe(0);
    ws.close(1000, 'bye');
    await w.closed();
    expect(w.log.at(-1)).toBe('close 1000 bye');
    await fake.streams.find((s) => s.conn === conn)!.closed; // the server saw the stream go
  });

  it('maps refusals before open to close codes, with the body as the reason and Retry-After kept', async () => {
    const cases: [number, string, number][] = [
      [401, 'bad token: expired', CLOSE_BAD_MESSAGE], [403, '{"error":"origin http://evil is not allowed"}', CLOSE_BAD_MESSAGE],
      [404, 'no room to watch', CLOSE_ROOM_CLOSED], [409, 'room full', CLOSE_ROOM_FULL], [429, 'too many joins', CLOSE_TRY_AGAIN],
      [500, 'boom', 1006],
    ];
    for (const [status, body, code] of cases) {
      fake.refuse = { status, body, headers: status === 429 ? { 'retry-after': '3' } : {} };
      const ws = new SseSocket(fake.wsUrl());
      const w = watch(ws);
      await w.closed();
      const reason = body.startsWith('{') ? 'origin http://evil is not allowed' : body;
      expect(w.log).toEqual([`error ${status}`, `close ${code} HTTP ${status} ${reason}`]);
      expect(ws.status).toBe(status);
      expect(ws.retryAfterMs).toBe(status === 429 ? 3000 : null);
    }
    fake.refuse = null;
  });

  it('reports 1006 when the stream ends without a close event, or the server cannot be reached', async () => {
    const ws = new SseSocket(fake.wsUrl());
    const w = watch(ws);
    await w.until(() => w.log.includes('open'));
    fake.streams.at(-1)!.res.end();
    await w.closed();
    expect(w.log.at(-1)).toBe('close 1006 event stream ended');

    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const gone = new SseSocket(`ws://127.0.0.1:${port}/ws?room=R&token=tok`);
    const g = watch(gone);
    await g.closed();
    expect(g.log[0]).toBe('error 0');
    expect(g.log[1]).toMatch(/^close 1006 event stream: fetch failed/);
  });

  it('hangs up on a stream that breaks the contract (data that is not base64)', async () => {
    const ws = new SseSocket(fake.wsUrl());
    const w = watch(ws);
    await w.until(() => w.log.includes('open'));
    const s = fake.streams.at(-1)!;
    s.res.write('data: **not base64**\n\n');
    await w.closed();
    expect(w.log.at(-1)).toBe('close 1002 event stream: a message that is not base64');
    await s.closed;
  });

  it('a POST answered 404 (the server forgot the connection) closes the socket at the next send', async () => {
    const ws = new SseSocket(fake.wsUrl());
    const w = watch(ws);
    await w.until(() => w.log.includes('open'));
    fake.postStatus = 404;
    ws.send(new Uint8Array([4, 1]));
    await w.until(() => w.log.includes('error 404'));
    fake.postStatus = 204;
    expect(ws.readyState).toBe(1);
    ws.send(new Uint8Array([4, 2]));
    await w.closed();
    expect(w.log.at(-1)).toBe('close 1006 send: HTTP 404 no such connection');
    expect(ws.sendErrors).toBe(1);
  });

  it('SseConnector carries the last snapshot id to the next stream as Last-Event-ID, under ReconnectingSocket', async () => {
    const connector = new SseConnector({ lastEventId: '5' });
    const rs = new ReconnectingSocket({ url: () => fake.wsUrl('R2', '&spectate=1'), create: connector.create, random: () => 0, backoff: { base: 0, fastMax: 0 } });
    const states: string[] = [];
    const got: number[][] = [];
    let wake: () => void = () => {};
    const until = (pred: () => boolean) => new Promise<void>((resolve) => {
      const check = () => {
        if (pred()) resolve();
        else wake = check;
      };
      check();
    });
    rs.onState = (s, info) => { states.push(info.code ? `${s} ${info.code}` : s); wake(); };
    rs.onMessage = (b) => { got.push([...b]); wake(); };
    rs.onOpen = () => rs.send(new Uint8Array([0x93, 1, 5, 0]));
    const before = fake.streams.length;
    rs.connect(0);
    await until(() => rs.state === 'open');
    const first = fake.streams[before];
    expect(first.lastEventId).toBe('5');
    await fake.until(() => fake.posts.some((p) => p.conn === first.conn));
    expect(fake.posts.find((p) => p.conn === first.conn)!.messages).toEqual([[0x93, 1, 5, 0]]);
    first.res.write(sseData(new Uint8Array([1]), 40) + sseData(new Uint8Array([2]), 41));
    await until(() => got.length === 2);
    first.res.end(); // the stream just ends: not final, so it reconnects
    await until(() => rs.state === 'reconnecting');
    rs.update(1);
    await until(() => rs.state === 'open');
    expect(fake.streams.at(-1)!.lastEventId).toBe('41');
    fake.streams.at(-1)!.res.end(sseNamed('close', '4006 room closed')); // final: stays closed
    await until(() => rs.state === 'closed');
    expect(states).toEqual(['connecting', 'open', 'reconnecting 1006', 'connecting', 'open', 'closed 4006']);

    fake.refuse = { status: 401, body: 'bad token' }; // a refusal before open is final as well
    rs.connect(2);
    await until(() => rs.state === 'closed');
    expect(states.at(-1)).toBe(`closed ${CLOSE_BAD_MESSAGE}`);
    fake.refuse = null;
  });

  it('behind the load test\'s socket (transport.ts): Buffers, refusals as UnexpectedResponse, terminate as 1006, loopback only', async () => {
    const log: string[] = [];
    let wake = () => {};
    const until = (pred: () => boolean) => new Promise<void>((resolve) => {
      const check = () => {
        if (pred()) resolve();
        else wake = check;
      };
      check();
    });
    const handlers = {
      onOpen: () => { log.push('open'); wake(); },
      onMessage: (data: Buffer, binary: boolean) => { log.push(`message ${Buffer.isBuffer(data)} ${binary} ${[...data]}`); wake(); },
      onClose: (code: number, reason: string) => { log.push(`close ${code} ${reason}`); wake(); },
      onError: (err: Error) => { log.push(err instanceof UnexpectedResponse ? `refused ${err.status} ${err.body}` : `error ${err.message}`); wake(); },
    };
    const ws = openSocket('sse', fake.wsUrl('R3'), handlers);
    await until(() => log.includes('open'));
    expect(ws.isOpen).toBe(true);
    fake.streams.at(-1)!.res.write(sseData(new Uint8Array([0x93, 18, 1])));
    await until(() => log.length === 2);
    ws.send(new Uint8Array([0x92, 4, 7]));
    await fake.until(() => fake.posts.some((p) => p.conn === fake.streams.at(-1)!.conn));
    ws.terminate();
    await until(() => log.some((l) => l.startsWith('close')));
    expect(log).toEqual(['open', 'message true true 147,18,1', 'close 1006 terminated']);
    await fake.streams.at(-1)!.closed;

    log.length = 0;
    fake.refuse = { status: 409, body: 'room R3 is full' };
    openSocket('sse', fake.wsUrl('R3'), handlers);
    await until(() => log.some((l) => l.startsWith('close')));
    fake.refuse = null;
    expect(log).toEqual(['refused 409 room R3 is full', `close ${CLOSE_ROOM_FULL} HTTP 409 room R3 is full`]);
    expect(() => openSocket('sse', 'ws://10.1.2.3/ws?room=R&token=t', handlers)).toThrow(/only target loopback/);
  });
});
