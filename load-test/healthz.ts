import { type Endpoint, type HttpAnswer, httpCall } from './endpoint.ts';

/** The server's /healthz as the load test reads it (see server/http.ts). */
export interface Healthz {
  rooms: number;
  clients: number;
  tick_rate: number;
  ticks: number;
  /** Percentiles over the server's last 4096 room ticks. */
  tick_ms: { p50: number; p99: number; max: number };
  ticks_overrun: number;
  ticks_dropped: number;
  snapshots_skipped: number;
  snapshots_sent: number;
  /** Of those sent, delivered by the room's one publish per tick. */
  snapshots_shared: number;
  input_ack_ms: { p50: number; p99: number; max: number };
  cpu_s: number;
  rss_mb: number;
  /** The answering instance's id ('' standalone); absent from servers before the cluster. */
  instance?: string;
  cluster?: { enabled: boolean; instance: string; redis: string; instances: number };
}

/** GET /healthz; throws a readable error when the server does not answer within `timeoutMs`. */
export async function fetchHealthz(ep: Endpoint, timeoutMs = 3000): Promise<Healthz> {
  let res: HttpAnswer;
  try {
    res = await httpCall(ep, '/healthz', { timeoutMs });
  } catch (err) {
    throw new Error(`cannot reach ${(err as Error).message}`);
  }
  // A draining instance (a deploy) answers 503 "draining" with its figures: still read.
  if (!res.ok && !(res.status === 503 && res.text.includes('"draining"'))) throw new Error(`${ep.http}/healthz answered HTTP ${res.status}`);
  let h: Healthz;
  try {
    h = JSON.parse(res.text) as Healthz;
  } catch {
    throw new Error(`${ep.http}/healthz answered something other than JSON: not a tickwire server?`);
  }
  if (typeof h.tick_rate !== 'number' || !h.tick_ms) throw new Error(`${ep.http}/healthz lacks tick_rate/tick_ms: not a tickwire server?`);
  return h;
}

/**
 * Polls /healthz every `everyMs` in the background, keeping the newest answer; never throws.
 * `read` is one poll (a cluster's: every instance's /healthz, combined; see instances.ts).
 */
export class HealthPoller {
  latest: Healthz | undefined;
  latestAt = 0;
  errors = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly read: (timeoutMs: number) => Promise<Healthz>, private readonly everyMs = 1000) {}

  start(): void {
    const tick = () => {
      if (!this.busy) {
        this.busy = true;
        this.read(this.everyMs * 2)
          .then((h) => { this.latest = h; this.latestAt = performance.now(); })
          .catch(() => { this.errors++; })
          .finally(() => { this.busy = false; });
      }
    };
    tick();
    this.timer = setInterval(tick, this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Codes of the rooms that hold players now (GET /api/rooms); seats stay held for the resume grace. */
export async function busyRooms(ep: Endpoint): Promise<Set<string>> {
  const res = await httpCall(ep, '/api/rooms');
  if (!res.ok) throw new Error(`${ep.http}/api/rooms answered HTTP ${res.status}`);
  const { rooms } = JSON.parse(res.text) as { rooms: { code: string; players: number }[] };
  return new Set(rooms.filter((r) => r.players > 0).map((r) => r.code));
}
