/**
 * A cluster's instances as the load test reads them: GET /api/instances through the
 * front (any instance answers for the whole cluster), then each instance's own /healthz
 * at `${url}/healthz`, `url` being its public base (nginx's /i/<id> prefix). The front's
 * own /healthz would be whichever instance nginx picked, a different one each time.
 *
 * Read at the window's start and end for the per-instance figures, and once a second
 * (the list kept from the run's start) for the live line's tick p99. Only /api/instances
 * may ask Redis (a listing at most a second old is reused), so it is read outside the
 * window Redis's commands are counted over.
 */
import { type Endpoint, httpCall } from './endpoint.ts';
import { fetchHealthz, type Healthz } from './healthz.ts';
import { checkHttpLoopback } from './options.ts';

/** One instance as GET /api/instances lists it (the fields the load test uses). */
export interface InstanceInfo {
  id: string;
  /** Public http(s) base, e.g. http://127.0.0.1:8080/i/b. */
  url: string;
  ws: string;
}

/** Every live instance, ids in order; throws unless each `url` is loopback (it is polled next). */
export async function listInstances(ep: Endpoint, timeoutMs = 3000): Promise<InstanceInfo[]> {
  const res = await httpCall(ep, '/api/instances', { timeoutMs });
  if (!res.ok) throw new Error(`${ep.http}/api/instances answered HTTP ${res.status} ${res.text.slice(0, 120)}`);
  const { instances } = JSON.parse(res.text) as { instances: InstanceInfo[] };
  for (const i of instances) checkHttpLoopback(i.url, `instance ${i.id}'s url`);
  return instances.map(({ id, url, ws }) => ({ id, url: url.replace(/\/+$/, ''), ws })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Each instance's /healthz by id, in the list's order; one that does not answer is left out. */
export type ClusterPoll = Map<string, Healthz>;

export async function pollInstances(ep: Endpoint, list: readonly InstanceInfo[], timeoutMs = 3000): Promise<ClusterPoll> {
  const answers = await Promise.all(list.map((i) => fetchHealthz({ ws: i.ws, http: i.url, ca: ep.ca }, timeoutMs).then(
    (h) => [i.id, h] as const,
    () => null,
  )));
  return new Map(answers.filter((a) => a !== null));
}

/**
 * The cluster as one server: counts, CPU and memory summed over the instances; tick and
 * input-ack percentiles are the worst instance's (a percentile of the union is not
 * computable from percentiles, and the worst one is what a gate should hold to).
 */
export function combineHealthz(hs: readonly Healthz[]): Healthz {
  if (hs.length === 0) throw new Error('no instance answered /healthz');
  const sum = (f: (h: Healthz) => number) => hs.reduce((n, h) => n + f(h), 0);
  const max = (f: (h: Healthz) => number) => Math.max(...hs.map(f));
  return {
    rooms: sum((h) => h.rooms), clients: sum((h) => h.clients), tick_rate: hs[0].tick_rate, ticks: sum((h) => h.ticks),
    tick_ms: { p50: max((h) => h.tick_ms.p50), p99: max((h) => h.tick_ms.p99), max: max((h) => h.tick_ms.max) },
    ticks_overrun: sum((h) => h.ticks_overrun), ticks_dropped: sum((h) => h.ticks_dropped),
    snapshots_skipped: sum((h) => h.snapshots_skipped), snapshots_sent: sum((h) => h.snapshots_sent),
    snapshots_shared: sum((h) => h.snapshots_shared),
    input_ack_ms: { p50: max((h) => h.input_ack_ms.p50), p99: max((h) => h.input_ack_ms.p99), max: max((h) => h.input_ack_ms.max) },
    cpu_s: sum((h) => h.cpu_s), rss_mb: sum((h) => h.rss_mb),
  };
}

/** One instance over the measured window. */
export interface InstanceFigures {
  id: string;
  /** Live bots welcomed by this instance at the window's end (from their WELCOMEs). */
  bots: number;
  /** Its own count of connected clients (the RTT probe included) and rooms, at the end. */
  clients: number;
  rooms: number;
  cpu_s_per_s: number;
  tick_ms: { p50: number; p99: number; max: number };
  rss_mb: number;
  /** Over the window. */
  snapshots_skipped: number;
  ticks_overrun: number;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The figures of each instance that answered at both ends of the window; `missing` names
 * the ones that answered at one end only (started or died meanwhile, or did not answer).
 */
export function instanceFigures(
  start: ClusterPoll, end: ClusterPoll, bots: Record<string, number>, dtS: number,
): { instances: InstanceFigures[]; missing: string[] } {
  const instances: InstanceFigures[] = [];
  const missing: string[] = [];
  for (const id of new Set([...start.keys(), ...end.keys()])) {
    const a = start.get(id);
    const b = end.get(id);
    if (!a || !b) {
      missing.push(id);
      continue;
    }
    instances.push({
      id, bots: bots[id] ?? 0, clients: b.clients, rooms: b.rooms, cpu_s_per_s: r3((b.cpu_s - a.cpu_s) / dtS),
      tick_ms: b.tick_ms, rss_mb: b.rss_mb, snapshots_skipped: b.snapshots_skipped - a.snapshots_skipped,
      ticks_overrun: b.ticks_overrun - a.ticks_overrun,
    });
  }
  instances.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return { instances, missing: missing.sort() };
}

/** Only the instances in both polls, so the combined totals' differences compare like with like. */
export function common(a: ClusterPoll, b: ClusterPoll): [Healthz[], Healthz[]] {
  const ids = [...a.keys()].filter((id) => b.has(id));
  return [ids.map((id) => a.get(id)!), ids.map((id) => b.get(id)!)];
}
