/**
 * The instance's two Redis connections (commands, and the bus subscription) and what
 * state they are in. Redis is never on the tick path, and a Redis that is down must
 * never stall or crash the process: commands fail fast while disconnected (no offline
 * queue) and time out after COMMAND_TIMEOUT_MS; ioredis reconnects by itself with a
 * capped, jittered backoff and resubscribes; every outage is logged once and counted.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { KEYS, SCRIPTS } from './scripts.ts';

export type RedisState = 'connecting' | 'ready' | 'down';

const COMMAND_TIMEOUT_MS = 1000;

/** The scripts of scripts.ts as ioredis defines them (KEYS first, then ARGV). */
export interface Scripted {
  twRegister(inst: string, instances: string, record: string, ttlMs: number, boot: string, id: string): Promise<string | null>;
  twResolve(rooms: string, code: string, candidate: string, instPrefix: string, claimsPrefix: string): Promise<[string, number] | null>;
  twRelease(rooms: string, claims: string, code: string, me: string): Promise<number>;
  twList(instances: string, instPrefix: string): Promise<string[]>;
  twPrune(rooms: string, instances: string, dead: string, instPrefix: string, claimsPrefix: string): Promise<number>;
  twDeregister(rooms: string, instances: string, inst: string, claims: string, me: string, boot: string): Promise<number>;
  twTransfer(rooms: string, fromClaims: string, toClaims: string, code: string, from: string, to: string, instPrefix: string): Promise<number | string>;
}

export class RedisLink {
  readonly cmd: Redis & Scripted;
  private readonly sub: Redis;
  state: RedisState = 'connecting';
  busReady = false;
  /** Connections re-established after a loss (the first connect is not one). */
  reconnects = 0;
  /** Outages: times a ready connection was lost. */
  outages = 0;
  private everReady = false;
  private downSinceMs = 0;
  private stopping = false;
  /** Called each time the command connection becomes ready (first time and after every outage). */
  onReady: (() => void) | null = null;
  onMessage: ((raw: string) => void) | null = null;

  constructor(url: string, private readonly log: Logger, private readonly wallMs: () => number) {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false, // a command while disconnected fails at once instead of waiting
      maxRetriesPerRequest: 0, // nor is it replayed after a reconnect: its caller has moved on
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(1000, 50 * 2 ** Math.min(times, 5)) * (0.5 + Math.random() / 2),
    };
    this.cmd = new Redis(url, options) as Redis & Scripted;
    for (const [name, numberOfKeys, lua] of SCRIPTS) this.cmd.defineCommand(name, { numberOfKeys, lua });
    this.sub = new Redis(url, options);
    this.cmd.on('ready', () => this.becameReady());
    this.cmd.on('error', (err: Error) => this.error(err));
    this.cmd.on('close', () => this.lost('connection closed'));
    this.sub.on('error', () => {}); // reported through the command connection; the subscriber retries with it
    this.sub.on('ready', () => {
      this.sub.subscribe(KEYS.bus).then(() => { this.busReady = true; }, (err: Error) => this.log('warn', `redis: cannot subscribe to ${KEYS.bus}: ${err.message}`));
    });
    this.sub.on('close', () => { this.busReady = false; });
    this.sub.on('message', (_channel: string, raw: string) => this.onMessage?.(raw));
  }

  start(): void {
    // connect() rejects when the first attempt fails; ioredis keeps retrying by itself.
    this.cmd.connect().catch(() => {});
    this.sub.connect().catch(() => {});
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  private becameReady(): void {
    if (this.everReady) {
      this.reconnects++;
      this.log('info', `redis: reconnected after ${((this.wallMs() - this.downSinceMs) / 1000).toFixed(1)} s; re-registering`);
    } else {
      this.log('info', 'redis: connected');
    }
    this.everReady = true;
    this.state = 'ready';
    this.onReady?.();
  }

  private lost(why: string): void {
    if (this.stopping) return;
    if (this.state === 'ready') {
      this.outages++;
      this.downSinceMs = this.wallMs();
      this.log('warn', `redis: ${why}; games keep running, reconnecting`);
    }
    this.state = this.everReady ? 'down' : 'connecting';
  }

  private error(err: Error): void {
    // Every failed reconnect emits one: say it once per outage, not once per retry.
    if (this.state === 'ready') this.lost(err.message);
    else if (!this.everReady && this.state === 'connecting' && this.downSinceMs === 0) {
      this.downSinceMs = this.wallMs();
      this.log('warn', `redis: cannot connect (${err.message}); retrying`);
    }
  }

  /** Publishes on the bus; resolves to the number of subscribers that got it. */
  publish(raw: string): Promise<number> {
    return this.cmd.publish(KEYS.bus, raw);
  }

  /** Closes both connections; never throws, never waits more than ~1 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const quit = (r: Redis) => Promise.race([r.quit().catch(() => {}), new Promise((res) => setTimeout(res, 1000).unref())])
      .finally(() => r.disconnect());
    await Promise.all([quit(this.cmd), quit(this.sub)]);
  }
}
