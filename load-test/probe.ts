/**
 * The RTT probe: one extra client on the main thread, whose event loop is nearly
 * idle, pinging 10 times a second from its own room. A bot's RTT includes the time
 * its PONG waits behind hundreds of other sockets on the worker's event loop; the
 * probe's does not, so the two together tell the server's latency from the swarm's.
 * It sends no inputs (its player stands still) and adds a one-player room. With each
 * ping it acks the newest snapshot it applied (when that changed), so the server sends
 * it deltas rather than a full snapshot every tick. In a cluster it follows a REDIRECT
 * like a bot (redirect.ts), but does not reconnect: a failure is noted in `error`. It uses
 * the run's --transport, so over SSE its RTT is the idle cost of a POST up and an event down.
 */
import { performance } from 'node:perf_hooks';
import { NetClient } from '../netcode/client.ts';
import type { Schema } from '../netcode/schema.ts';
import { type Endpoint, httpCall } from './endpoint.ts';
import { Histogram } from './histogram.ts';
import { joinUrl, MAX_REDIRECTS, redirectTarget } from './redirect.ts';
import { type BotSocket, openSocket, type Transport } from './transport.ts';

const EVERY_MS = 100;

export class Probe {
  readonly rtt = new Histogram();
  private ws: BotSocket | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly net: NetClient;
  private ackedTick = 0;
  private token = '';
  private redirects = 0;
  error = '';

  /** `schema`: the game's entity table (its bot policy's). */
  constructor(private readonly ep: Endpoint, private readonly room: string, schema: Schema, private readonly transport: Transport = 'ws') {
    this.net = new NetClient(schema);
  }

  async start(): Promise<void> {
    try {
      const res = await httpCall(this.ep, '/api/session', { body: JSON.stringify({ name: 'rtt-probe' }) });
      if (!res.ok) throw new Error(`POST /api/session: ${res.status}`);
      this.token = (JSON.parse(res.text) as { token: string }).token;
      this.connect(this.ep.ws);
      this.timer = setInterval(() => {
        const ws = this.ws;
        if (!ws?.isOpen || !this.net.playerId) return;
        ws.send(this.net.ping(performance.now()));
        if (this.net.ackTick !== this.ackedTick) { // at most one ACK per interval, only when there is news
          this.ackedTick = this.net.ackTick;
          ws.send(this.net.ack());
        }
      }, EVERY_MS);
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private connect(endpoint: string): void {
    const ws: BotSocket = openSocket(this.transport, joinUrl(endpoint, this.room, this.token), {
      onOpen: () => ws.send(this.net.hello()),
      onMessage: (data) => {
        if (ws !== this.ws) return;
        const now = performance.now();
        const ev = this.net.receive(data, now);
        if (ev.kind === 'pong') this.rtt.add(now - ev.clientTime);
        else if (ev.kind === 'redirect') this.follow(ws, ev.url);
      },
      onError: (err) => { if (ws === this.ws) this.error = err.message; },
      onClose: (code) => { if (this.ws === ws && code !== 1000) this.error = `probe closed ${code}`; },
    }, { ca: this.ep.ca });
    this.ws = ws;
  }

  /** The room lives on another instance: go there at once (the server closes this socket right after). */
  private follow(ws: BotSocket, url: string): void {
    this.ws = null;
    ws.close(1000, 'redirected');
    try {
      if (++this.redirects > MAX_REDIRECTS) throw new Error(`over ${MAX_REDIRECTS} REDIRECTs without a WELCOME`);
      this.connect(redirectTarget(url));
    } catch (err) {
      this.error = `probe: ${(err as Error).message}`;
    }
  }

  /** Latencies since the previous call. */
  take(): Histogram {
    const out = this.rtt.take();
    return new Histogram(out.counts, out.maxMs);
  }

  stop(): void {
    clearInterval(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws?.isOpen) ws.close(1000, 'load test over');
    else ws?.terminate();
  }
}
