/** Real-socket test clients: a guest token over HTTP, then a `ws` socket driven by the shared NetClient. */
import WebSocket from 'ws';
import { ARENA_SCHEMA } from '../../game/sim/netschema.ts';
import { type ClientEvent, NetClient, type SnapshotInfo } from '../../netcode/client.ts';

export async function getToken(base: string, name: string): Promise<string> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ name }) });
  if (!res.ok) throw new Error(`session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export interface UpgradeRefusal {
  status: number;
  body: string;
}

/** Tries a WebSocket upgrade; resolves with the HTTP refusal, or rejects if a socket opened. */
export function expectRefusal(url: string, headers: Record<string, string> = {}): Promise<UpgradeRefusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => { ws.close(); reject(new Error('socket opened')); });
    ws.on('error', () => {});
  });
}

/** A player over a real socket: HELLO on open, snapshots applied and acked through NetClient. */
export class TestClient {
  readonly net = new NetClient(ARENA_SCHEMA);
  readonly ws: WebSocket;
  readonly events: ClientEvent[] = [];
  snapshots: SnapshotInfo[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  constructor(url: string, opts: { origin?: string; autoHello?: boolean } = {}) {
    this.ws = new WebSocket(url, opts.origin ? { origin: opts.origin } : {});
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('open', () => { if (opts.autoHello !== false) this.send(this.net.hello()); });
    this.ws.on('message', (data: Buffer) => {
      const ev = this.net.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), performance.now());
      this.events.push(ev);
      if (ev.kind === 'snapshot') this.snapshots.push(ev.snap);
      this.wake();
    });
    this.ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; this.wake(); });
    this.ws.on('error', () => {});
  }

  send(bytes: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `pred` holds, re-checked on every message or close; rejects after `ms`. */
  until<T>(pred: () => T | undefined | false, ms = 5000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      const check = () => {
        const v = pred();
        if (v) { clearTimeout(timer); resolve(v); } else this.waiters.push(check);
      };
      check();
    });
  }

  /** The entity values of `id` in the newest snapshot. */
  entity(id: number): Record<string, number> | undefined {
    for (const e of this.net.replica.entities()) if (e.id === id) return e.obj;
    return undefined;
  }

  close(): void {
    this.ws.close();
  }
}
