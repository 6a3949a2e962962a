import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../netcode/netsim.ts';
import { CLOSE_GOING_AWAY, CLOSE_KICKED, CLOSE_REDIRECT, CLOSE_REPLACED } from '../netcode/protocol.ts';
import {
  type BackoffOptions,
  backoffDelay,
  MAX_REDIRECTS,
  REDIRECT_WINDOW,
  ReconnectingSocket,
  type SocketOptions,
  type SocketState,
  type WebSocketLike,
} from '../netcode/socket.ts';

/** A WebSocketLike the test opens, feeds and closes by hand. */
class FakeWs implements WebSocketLike {
  binaryType = 'blob';
  readyState = 0;
  sent: Uint8Array[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code, reason });
  }
}

function setup(over: Partial<SocketOptions> = {}) {
  const made: FakeWs[] = [];
  const states: SocketState[] = [];
  const infos: { code?: number; reason?: string; retryIn?: number }[] = [];
  let n = 0;
  const sock = new ReconnectingSocket({
    url: () => `ws://x/ws?try=${n++}`,
    create: (url) => {
      const ws = new FakeWs(url);
      made.push(ws);
      return ws;
    },
    random: () => 0.5,
    ...over,
  });
  sock.onState = (s, info) => {
    states.push(s);
    infos.push(info);
  };
  const last = () => made[made.length - 1];
  return { sock, made, states, infos, last };
}

const B: BackoffOptions = { base: 500, factor: 2, max: 10_000, jitter: 0.5, fastWindow: 0, fastMax: 800 };

describe('backoffDelay', () => {
  it('doubles from base, with the jitter share drawn at random', () => {
    const at = (r: number) => [1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, B, () => r));
    expect(at(0)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(at(0.5)).toEqual([375, 750, 1500, 3000, 6000, 7500, 7500]);
    expect(at(1)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('stays within [d·(1−jitter), d] and never above max', () => {
    const rnd = mulberry32(5);
    for (let a = 1; a < 40; a++) {
      const d = Math.min(10_000, 500 * 2 ** (a - 1));
      for (let k = 0; k < 50; k++) {
        const v = backoffDelay(a, B, rnd);
        expect(v).toBeGreaterThanOrEqual(d * 0.5);
        expect(v).toBeLessThanOrEqual(d);
      }
    }
    expect(backoffDelay(3, { ...B, jitter: 0 }, () => 0.9)).toBe(2000);
    expect(backoffDelay(3, { ...B, jitter: 1 }, () => 0.1)).toBeCloseTo(200, 9);
  });
});

describe('ReconnectingSocket', () => {
  it('goes connecting → open → reconnecting → connecting → open, resetting the attempt count', () => {
    const { sock, made, states, infos, last } = setup();
    const opens: number[] = [];
    sock.onOpen = () => opens.push(made.length);
    expect(sock.state).toBe('idle');
    sock.connect(1000);
    expect(last().binaryType).toBe('arraybuffer');
    last().open();
    expect(sock.send(new Uint8Array([1]))).toBe(true);
    expect(last().sent).toHaveLength(1);
    sock.update(2000);
    last().drop(1006);
    expect(sock.state).toBe('reconnecting');
    expect(sock.attempt).toBe(1);
    expect(sock.nextRetryAt).toBe(2000 + 375);
    expect(infos[infos.length - 1]).toEqual({ code: 1006, reason: '', retryIn: 375 });
    expect(sock.send(new Uint8Array([2]))).toBe(false);
    sock.update(2374);
    expect(made).toHaveLength(1);
    sock.update(2375);
    expect(made).toHaveLength(2);
    expect(made[1].url).toBe('ws://x/ws?try=1'); // url() asked again
    last().open();
    expect(sock.attempt).toBe(0);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open']);
    expect(opens).toEqual([1, 2]);
  });

  it('backs off 375, 750, 1500 … ms over consecutive failures (random = 0.5), capped at max', () => {
    const { sock, infos, last } = setup({ backoff: { max: 4000, fastWindow: 0 } });
    let now = 0;
    sock.connect(now);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      last().drop(1006);
      waits.push(infos[infos.length - 1].retryIn as number);
      now = sock.nextRetryAt as number;
      sock.update(now);
      expect(sock.state).toBe('connecting');
    }
    expect(waits).toEqual([375, 750, 1500, 3000, 3000, 3000]);
  });

  it('does not reconnect after a deliberate close() or a final close code', () => {
    const a = setup();
    a.sock.connect(0);
    a.last().open();
    a.sock.close(1000, 'bye');
    expect(a.sock.state).toBe('closed');
    expect(a.last().closedWith).toEqual({ code: 1000, reason: 'bye' });
    a.last().drop(1000); // late close event of the abandoned socket
    a.sock.update(1e9);
    expect(a.made).toHaveLength(1);
    expect(a.states).toEqual(['connecting', 'open', 'closed']);

    for (const code of [CLOSE_KICKED, CLOSE_REPLACED, 4002, 1000]) {
      const b = setup();
      b.sock.connect(0);
      b.last().open();
      b.last().drop(code, 'go away');
      expect(b.sock.state).toBe('closed');
      expect(b.infos[b.infos.length - 1]).toEqual({ code, reason: 'go away' });
      b.sock.update(1e9);
      expect(b.made).toHaveLength(1);
    }
    // 1001 (server restarting) is not final: come back.
    const c = setup();
    c.sock.connect(0);
    c.last().open();
    c.last().drop(CLOSE_GOING_AWAY);
    expect(c.sock.state).toBe('reconnecting');
  });

  it('goes offline after maxAttempts failed retries, and connect() starts over', () => {
    const { sock, made, states, last } = setup({ maxAttempts: 3 });
    sock.connect(0);
    for (let i = 0; i < 4; i++) {
      last().drop(1006);
      if (sock.state === 'reconnecting') sock.update(sock.nextRetryAt as number);
    }
    expect(sock.state).toBe('offline');
    expect(made).toHaveLength(4); // the first connect + 3 retries
    expect(sock.nextRetryAt).toBeNull();
    sock.update(1e9);
    expect(made).toHaveLength(4);
    expect(states.filter((s) => s === 'reconnecting')).toHaveLength(3);
    sock.connect(2e9);
    expect(sock.state).toBe('connecting');
    expect(sock.attempt).toBe(0);
    last().open();
    expect(sock.state).toBe('open');
  });

  it('times out a stuck connect and retries, ignoring the abandoned socket', () => {
    const { sock, made, last } = setup({ openTimeout: 5000 });
    sock.connect(100);
    sock.update(5099);
    expect(sock.state).toBe('connecting');
    sock.update(5100);
    expect(sock.state).toBe('reconnecting');
    expect(made[0].closedWith).not.toBeNull();
    expect(sock.nextRetryAt).toBe(5100 + 375);
    made[0].open(); // the abandoned socket opening late must not count
    expect(sock.state).toBe('reconnecting');
    sock.update(5475);
    last().open();
    expect(sock.state).toBe('open');
    expect(made).toHaveLength(2);
  });

  it('normalizes ArrayBuffer, Buffer and Uint8Array messages; ignores text', () => {
    const { sock, last } = setup();
    const got: number[][] = [];
    sock.onMessage = (b) => {
      expect(b).toBeInstanceOf(Uint8Array);
      got.push([...b]);
    };
    sock.connect(0);
    last().open();
    const ab = new Uint8Array([1, 2]).buffer;
    last().onmessage?.({ data: ab });
    last().onmessage?.({ data: Buffer.from([9, 3, 4, 9]).subarray(1, 3) });
    last().onmessage?.({ data: new Uint8Array([5]) });
    last().onmessage?.({ data: 'hello' });
    expect(got).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('treats a throwing create() as a failed attempt', () => {
    let calls = 0;
    const sock = new ReconnectingSocket({
      url: () => 'bad url',
      create: () => {
        calls++;
        throw new Error('SyntaxError: bad url');
      },
      random: () => 0,
    });
    sock.connect(0);
    expect(sock.state).toBe('reconnecting');
    expect(sock.nextRetryAt).toBe(250);
    sock.update(250);
    expect(calls).toBe(2);
    expect(sock.nextRetryAt).toBe(650); // 250 + 1000 capped at fastMax (800) × (1 − jitter)
  });

  it('after a 2 s outage, tries again within 0.8 s of the link returning (fast window)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = mulberry32(seed);
      const { sock, last } = setup({ random: rnd });
      let now = 0;
      sock.connect(now);
      last().open();
      last().drop(1006); // the link goes down at t = 0 …
      // … every attempt fails until t = 2000, when it is back.
      while ((sock.nextRetryAt as number) < 2000) {
        now = sock.nextRetryAt as number;
        sock.update(now);
        last().drop(1006);
      }
      expect((sock.nextRetryAt as number) - 2000).toBeLessThanOrEqual(800);
      sock.update(sock.nextRetryAt as number);
      last().open();
      expect(sock.state).toBe('open');
    }
  });

  it('leaves the fast window after fastWindow ms and backs off exponentially again', () => {
    const { sock, infos, last } = setup({ random: () => 0.5 });
    let now = 0;
    sock.connect(now);
    last().open();
    const waits: number[] = [];
    for (let i = 0; i < 24; i++) {
      last().drop(1006);
      waits.push(infos[infos.length - 1].retryIn as number);
      now = sock.nextRetryAt as number;
      sock.update(now);
    }
    expect(Math.max(...waits.slice(0, 10))).toBeLessThanOrEqual(600); // 0.75 × 800 while fast
    expect(waits[waits.length - 1]).toBe(7500); // 0.75 × the 10 s cap once the window is over
  });

  it('follows a redirect close at the next update, to the url asked for then, without a reconnecting state or a failure', () => {
    let target = 'ws://front/ws';
    const { sock, made, states, last } = setup({ url: () => target });
    sock.connect(0);
    last().open();
    target = 'ws://front/i/b/ws'; // what the app does on REDIRECT, before the socket's close arrives
    last().drop(CLOSE_REDIRECT, 'room lives on instance b');
    expect(sock.state).toBe('connecting');
    expect(made.length).toBe(1); // not from inside the close handler: the app reads the REDIRECT first
    sock.update(1);
    expect(made.length).toBe(2);
    expect(made[1].url).toBe('ws://front/i/b/ws');
    last().open();
    expect(states).toEqual(['connecting', 'open', 'connecting', 'connecting', 'open']);
    expect(sock.attempt).toBe(0);
  });

  it('follow(): hangs up first on a REDIRECT or MOVE and opens the next attempt at the next update; the server\'s close is ignored', () => {
    let target = 'ws://front/i/a/ws';
    const { sock, made, states, last } = setup({ url: () => target });
    expect(sock.follow()).toBe(false); // not open: nothing to follow
    sock.connect(0);
    last().open();
    target = 'ws://front/i/b/ws';
    expect(sock.follow()).toBe(true);
    expect(made[0].closedWith).toEqual({ code: 1000, reason: 'following the server' });
    made[0].drop(CLOSE_REDIRECT, 'room moved to instance b'); // the server's close, late: ignored
    expect(sock.state).toBe('connecting');
    sock.update(1);
    expect(made.map((w) => w.url)).toEqual(['ws://front/i/a/ws', 'ws://front/i/b/ws']);
    last().open();
    expect(states).toEqual(['connecting', 'open', 'connecting', 'connecting', 'open']);
    // follow() counts against MAX_REDIRECTS like a redirect close.
    for (let i = 1; i < MAX_REDIRECTS; i++) {
      expect(sock.follow()).toBe(true);
      sock.update(2 + i);
      last().open();
    }
    expect(sock.follow()).toBe(false);
    expect(sock.state).toBe('open');
  });

  it('backs off once more than MAX_REDIRECTS redirects come within REDIRECT_WINDOW (a loop)', () => {
    const { sock, last } = setup();
    let now = 0;
    sock.connect(now);
    for (let i = 0; i < MAX_REDIRECTS; i++) {
      last().open();
      last().drop(CLOSE_REDIRECT);
      expect(sock.state).toBe('connecting');
      sock.update(++now);
    }
    last().open();
    last().drop(CLOSE_REDIRECT);
    expect(sock.state).toBe('reconnecting');
    expect(sock.nextRetryAt).toBeGreaterThan(now);
    // Outside the window redirects are followed at once again.
    now += REDIRECT_WINDOW + 1;
    sock.update(now);
    last().open();
    last().drop(CLOSE_REDIRECT);
    expect(sock.state).toBe('connecting');
  });
});
