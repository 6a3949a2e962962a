/**
 * The live monitor's figures of this instance. Every figure comes from the /metrics
 * registry itself (`registry.getMetricsAsJSON()`: the same gauges and the same collect
 * functions as a Prometheus scrape, not a second set of counters), keyed as /metrics
 * names its lines (`tickwire_clients`, `tickwire_messages_rejected_total{reason="rate_limit"}`).
 * Next to them: the rooms and their players (as GET /api/admin/players lists them) and
 * the cluster part of /healthz (Redis state).
 *
 * `sample()` is called once a second by main.ts's timer (the only clock here is the
 * `wallMs` it is given); the charted series of the last HISTORY samples are kept, so a
 * monitor that connects draws the last five minutes at once. Counters are kept as
 * totals: the page turns them into rates.
 */
import type { Registry } from 'prom-client';
import type { ClusterHealth, ClusterNode } from '../cluster/node.ts';
import type { RoomManager } from '../rooms.ts';

/** The series the page charts, in the order of each history row (after its time, in s). */
export const CHART_KEYS = [
  'tickwire_clients', 'tickwire_players', 'tickwire_tick_ms_p50', 'tickwire_tick_ms_p99',
  'tickwire_ws_bytes_in_total', 'tickwire_ws_bytes_out_total', 'tickwire_snapshots_skipped_total',
  'tickwire_messages_rejected_total', 'tickwire_joins_total{kind="resumed"}',
] as const;

/** Samples kept: 5 minutes at one a second. */
export const HISTORY = 300;
/** Rooms listed in one sample at most (the figures count them all). */
export const MAX_ROOMS_LISTED = 200;

export interface MonitorPlayer {
  id: number;
  name: string;
  connected: boolean;
  ip: string;
}

export interface MonitorRoom {
  code: string;
  connected: number;
  max: number;
  players: MonitorPlayer[];
}

/** One sample as the feed sends it. */
export interface MonitorSample {
  type: 'sample';
  instance: string;
  /** Wall-clock ms. */
  at: number;
  /** Every line of /metrics: name (with its labels) → value. */
  metrics: Record<string, number>;
  /** [time in s, ...CHART_KEYS]. */
  chart: number[];
  rooms: MonitorRoom[];
  /** How many rooms there are (more than `rooms` lists past MAX_ROOMS_LISTED). */
  roomCount: number;
  cluster: ClusterHealth;
}

/** What a feed sends first: the chart history. */
export interface MonitorHello {
  type: 'hello';
  instance: string;
  keys: readonly string[];
  history: number[][];
}

export interface FeedDeps {
  registry: Registry;
  manager: RoomManager;
  cluster: ClusterNode;
  /** MAX_PLAYERS_PER_ROOM. */
  maxPlayers: number;
  wallMs: () => number;
}

/** The registry as /metrics prints it: `name{label="value",…}` → value. */
export async function readRegistry(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values) {
      const labels = Object.entries(v.labels ?? {});
      const key = labels.length ? `${m.name}{${labels.map(([k, l]) => `${k}="${l}"`).join(',')}}` : m.name;
      out[key] = v.value;
    }
  }
  return out;
}

/** A charted value: the line itself, or the sum of a labelled metric's lines. */
export function chartValue(metrics: Record<string, number>, key: string): number {
  if (key in metrics) return metrics[key];
  let sum = 0;
  for (const [k, v] of Object.entries(metrics)) if (k.startsWith(`${key}{`)) sum += v;
  return sum;
}

export class MonitorFeed {
  private readonly history: number[][] = [];

  constructor(private readonly d: FeedDeps) {}

  /**
   * Reads the registry now and keeps one history row; returns the whole sample (rooms
   * included) when someone `listens`, else null (nothing more is built).
   */
  async sample(listens: boolean): Promise<MonitorSample | null> {
    const metrics = await readRegistry(this.d.registry);
    const at = this.d.wallMs();
    const chart = [at / 1000, ...CHART_KEYS.map((k) => chartValue(metrics, k))];
    this.history.push(chart);
    if (this.history.length > HISTORY) this.history.shift();
    if (!listens) return null;
    const all = [...this.d.manager.rooms.values()];
    const rooms = all.slice(0, MAX_ROOMS_LISTED).map((r) => ({
      code: r.code, connected: r.connectedCount, max: this.d.maxPlayers,
      players: r.members().map(({ id, name, connected, ip }) => ({ id, name, connected, ip })),
    }));
    const cluster = this.d.cluster.health();
    return { type: 'sample', instance: this.d.cluster.id, at, metrics, chart, rooms, roomCount: all.length, cluster };
  }

  hello(): MonitorHello {
    return { type: 'hello', instance: this.d.cluster.id, keys: CHART_KEYS, history: this.history };
  }
}
