import { createServer, type Server, type Socket, connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { ReconnectingSocket, type WebSocketLike } from '../netcode/socket.ts';
import { loadConfig } from '../server/config.ts';
import { type RunningServer, startServer } from '../server/main.ts';
import { getToken } from './helpers/net.ts';

/** A loopback TCP proxy that can be cut (connections reset, new ones refused) and restored. */
class Cable {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}

  async plug(): Promise<void> {
    this.server = createServer((c) => {
      const s = connect(this.target, '127.0.0.1');
      for (const x of [c, s]) {
        this.sockets.add(x);
        x.on('close', () => this.sockets.delete(x));
        x.on('error', () => {});
      }
      c.pipe(s).pipe(c);
    });
    await new Promise<void>((r) => this.server?.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.resetAndDestroy();
    await new Promise((r) => this.server?.close(r));
  }
}

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', secret: 's', npcCount: 4 }));
});
afterAll(async () => { await srv?.close(); });

describe('outage and resume over a real link', () => {
  it('after a 2 s outage the same player is back within 1 s of the link returning', async () => {
    const cable = new Cable(srv.port);
    await cable.plug();
    const token = await getToken(`http://127.0.0.1:${srv.port}`, 'Roamer');
    const net = new NetClient(ARENA_SCHEMA);
    const welcomes: { at: number; id: number; resumed: boolean }[] = [];
    const sock = new ReconnectingSocket({
      url: () => `ws://127.0.0.1:${cable.port}/ws?room=CABLE&token=${token}`,
      create: (url) => new WebSocket(url) as unknown as WebSocketLike,
      random: Math.random,
    });
    sock.onOpen = () => sock.send(net.hello());
    sock.onMessage = (bytes) => {
      const ev = net.receive(bytes, performance.now());
      if (ev.kind === 'welcome') welcomes.push({ at: performance.now(), id: ev.playerId, resumed: ev.resumed });
    };
    // The socket's timers run on the caller's clock: drive them as a client's frame loop would.
    const loop = setInterval(() => sock.update(performance.now()), 5);
    try {
      sock.connect(performance.now());
      await expect.poll(() => welcomes.length, { timeout: 5000 }).toBe(1);
      await cable.cut();
      await expect.poll(() => sock.state, { timeout: 2000 }).toBe('reconnecting');
      await new Promise((r) => setTimeout(r, 2000)); // the outage itself: the one wait this test is about
      await cable.plug();
      const back = performance.now();
      await expect.poll(() => welcomes.length, { timeout: 5000 }).toBe(2);
      const took = welcomes[1].at - back;
      console.log(`outage test: same player back ${took.toFixed(0)} ms after the link returned`);
      expect(welcomes[1]).toMatchObject({ id: welcomes[0].id, resumed: true });
      expect(took).toBeLessThan(1000);
    } finally {
      clearInterval(loop);
      sock.close();
    }
  });
});
