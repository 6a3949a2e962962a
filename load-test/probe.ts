/**
 * The RTT probe: one extra client on the main thread, whose event loop is nearly
 * idle, pinging 10 times a second from its own room. A bot's RTT includes the time
 * its PONG waits behind hundreds of other sockets on the worker's event loop; the
 * probe's does not, so the two together tell the server's latency from the swarm's.
 * It sends no inputs (its player stands still) and adds a one-player room. With each
 * ping it acks the newest snapshot it applied (when that changed), so the server sends
 * it deltas rather than a full snapshot every tick.
 */
import { performance } from 'node:perf_hooks';
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { type Endpoint, httpCall } from './endpoint.ts';
import { Histogram } from './histogram.ts';
import { Wire } from './wire.ts';

const EVERY_MS = 100;

export class Probe {
  readonly rtt = new Histogram();
  private ws: Wire | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly net = new NetClient(ARENA_SCHEMA);
  private ackedTick = 0;
  error = '';

  constructor(private readonly ep: Endpoint, private readonly room: string) {}

  async start(): Promise<void> {
    try {
      const res = await httpCall(this.ep, '/api/session', { body: JSON.stringify({ name: 'rtt-probe' }) });
      if (!res.ok) throw new Error(`POST /api/session: ${res.status}`);
      const { token } = JSON.parse(res.text) as { token: string };
      const ws: Wire = new Wire(`${this.ep.ws}?room=${this.room}&token=${encodeURIComponent(token)}`, {
        onOpen: () => ws.send(this.net.hello()),
        onMessage: (data) => {
          const now = performance.now();
          const ev = this.net.receive(data, now);
          if (ev.kind === 'pong') this.rtt.add(now - ev.clientTime);
        },
        onError: (err) => { this.error = err.message; },
        onClose: (code) => { if (this.ws === ws && code !== 1000) this.error = `probe closed ${code}`; },
      }, { ca: this.ep.ca });
      this.ws = ws;
      this.timer = setInterval(() => {
        if (!ws.isOpen || !this.net.playerId) return;
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
