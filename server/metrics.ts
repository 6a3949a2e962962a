/** Prometheus metrics (/metrics), collected from the room manager when scraped. */
import { Counter, Gauge, Registry } from 'prom-client';
import type { ClusterNode } from './cluster/node.ts';
import type { Drainer } from './drain.ts';
import type { IpLimits, LimitName } from './iplimits.ts';
import type { RoomManager } from './rooms.ts';

export function createMetrics(manager: RoomManager, cluster: ClusterNode, drainer: Drainer, limits: IpLimits, uptimeS: () => number, sseStreams: () => number = () => 0) {
  const registry = new Registry();
  const g = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  g('tickwire_rooms', 'Rooms open', () => manager.rooms.size);
  g('tickwire_clients', 'WebSocket clients connected', () => manager.clients);
  g('tickwire_tick_ms_p50', 'Room tick duration p50 over the last 4096 room ticks (ms)', () => manager.tickMs.quantile(0.5));
  g('tickwire_tick_ms_p99', 'Room tick duration p99 over the last 4096 room ticks (ms)', () => manager.tickMs.quantile(0.99));
  g('tickwire_tick_ms_max', 'Longest room tick since start (ms)', () => manager.tickMs.peak);
  g('tickwire_ticks_total', 'Ticks run', () => manager.ticks);
  g('tickwire_ticks_overrun_total', 'Room ticks longer than the tick period', () => manager.overruns);
  g('tickwire_ticks_dropped_total', 'Ticks dropped by the backlog clamp', () => manager.dropped);
  g('tickwire_snapshots_sent_total', 'Snapshots sent, shared ones included', () => manager.snapshotCounts.sent);
  g('tickwire_snapshots_shared_total', 'Snapshots delivered by the room\'s one publish per tick', () => manager.snapshotCounts.shared);
  g('tickwire_snapshots_skipped_total', 'Snapshots skipped for backed-up sockets', () => manager.snapshotCounts.skipped);
  g('tickwire_slow_readers_closed_total', 'Clients closed as too slow (SLOW_READER_S / SLOW_READER_BYTES), their seats kept', () => manager.snapshotCounts.slowClosed);
  g('tickwire_uptime_seconds', 'Process uptime', uptimeS);
  // The players' sockets (wirestats.ts): counted where the bytes and refusals happen.
  const w = manager.wire;
  g('tickwire_players', 'Seats held by players, connected or within their resume grace', () => {
    let n = 0;
    for (const r of manager.rooms.values()) n += r.playerCount;
    return n;
  });
  g('tickwire_spectators', 'Spectators watching (no seat), over both transports', () => {
    let n = 0;
    for (const r of manager.rooms.values()) n += r.watchers.count;
    return n;
  });
  g('tickwire_sse_streams', 'Event streams open (the SSE transport: players and spectators)', sseStreams);
  g('tickwire_ws_bytes_in_total', 'Payload bytes of the WebSocket messages players sent (no frame headers)', () => w.bytesIn);
  g('tickwire_ws_bytes_out_total', 'Payload bytes handed to uWS for players: each send, each room publish × its subscribers', () => w.bytesOut);
  new Gauge({
    name: 'tickwire_messages_rejected_total', labelNames: ['reason'], registers: [registry],
    help: 'Player sockets refused (S_ERROR + close) for what they sent or could not get, by close code name',
    collect() { for (const [reason, n] of w.refusedByName()) this.set({ reason }, n); },
  });
  new Gauge({
    name: 'tickwire_joins_total', labelNames: ['kind'], registers: [registry],
    help: 'HELLOs welcomed into a new seat (new) or a seat kept from an earlier socket (resumed: reconnect, MOVE, restart)',
    collect() { this.set({ kind: 'new' }, w.joins); this.set({ kind: 'resumed' }, w.resumes); },
  });
  // Scale-out (all 0 on a standalone server but tickwire_cluster_instances, 1).
  const c = cluster.counters;
  g('tickwire_redis_up', 'Redis command connection ready (1), or not (0); -1 when standalone', () =>
    (cluster.redis ? (cluster.redis.ready ? 1 : 0) : -1));
  g('tickwire_redis_reconnects_total', 'Redis connections re-established after a loss', () => cluster.redis?.reconnects ?? 0);
  g('tickwire_redis_outages_total', 'Times a ready Redis connection was lost', () => cluster.redis?.outages ?? 0);
  g('tickwire_redis_errors_total', 'Redis calls that failed (registry, directory, bus)', () => c.redisErrors);
  g('tickwire_cluster_instances', 'Live instances in the last listing, this one included', () => cluster.directory.liveCount);
  g('tickwire_cluster_registered', 'This instance is registered in the cluster (1) or not (0)', () => (cluster.registered ? 1 : 0));
  g('tickwire_cluster_registrations_total', 'Registrations (at start, and again after Redis lost our record)', () => c.registrations);
  g('tickwire_cluster_redirects_total', 'Joins answered with REDIRECT to the owning instance', () => c.redirects);
  g('tickwire_cluster_claims_total', 'Room codes this instance claimed in the directory', () => c.claims);
  g('tickwire_cluster_claim_conflicts_total', 'Rooms held here that another instance had claimed (after a Redis outage)', () => c.claimConflicts);
  g('tickwire_cluster_id_conflicts_total', 'Times another live process was found using this INSTANCE_ID', () => c.idConflicts);
  g('tickwire_cluster_pruned_total', 'Dead instances whose claims this instance swept', () => c.pruned);
  g('tickwire_cluster_bus_rejected_total', 'Bus messages dropped as malformed', () => c.busRejected);
  g('tickwire_announcements_total', 'Operator announcements delivered to this instance\'s rooms', () => c.announcements);
  g('tickwire_kicks_total', 'Players kicked on this instance', () => c.kicks);
  g('tickwire_rooms_closed_total', 'Rooms an operator closed on this instance (POST /api/admin/close)', () => c.closes);
  // Drains (drain.ts) and hand-overs (cluster/handover.ts).
  const ds = drainer.stats;
  g('tickwire_draining', 'This instance is draining (1) or not (0)', () => (drainer.draining ? 1 : 0));
  g('tickwire_handover_rooms_total', 'Rooms this instance handed to another instance while draining', () => ds.handed);
  g('tickwire_handover_players_moved_total', 'Players told (MOVE) where their handed-over room went', () => ds.moved);
  g('tickwire_handover_saved_total', 'Rooms a drain saved to the state file instead of handing them over', () => ds.saved);
  g('tickwire_handover_lost_total', 'Rooms a drain could neither hand over nor save', () => ds.lost);
  g('tickwire_handover_ms_p50', 'Hand-over time p50, room frozen to players told (ms)', () => ds.handoverMs.quantile(0.5));
  g('tickwire_handover_ms_p99', 'Hand-over time p99, room frozen to players told (ms)', () => ds.handoverMs.quantile(0.99));
  g('tickwire_handover_ms_max', 'Longest hand-over (ms)', () => ds.handoverMs.peak);
  g('tickwire_handover_received_total', 'Rooms taken over from draining instances', () => cluster.handover.counters.received);
  g('tickwire_handover_refused_total', 'Rooms from draining instances this instance refused', () => cluster.handover.counters.refused);
  new Gauge({
    name: 'tickwire_handover_failures_total', help: 'Hand-over attempts that failed, by reason', labelNames: ['reason'], registers: [registry],
    collect() { for (const [reason, n] of ds.failures) this.set({ reason }, n); },
  });
  // Per-address limits (iplimits.ts).
  new Gauge({
    name: 'tickwire_ip_limited_total', help: 'Requests and upgrades refused with 429 by a per-address limit, by limit', labelNames: ['limit'],
    registers: [registry],
    collect() { for (const [limit, n] of Object.entries(limits.refused)) this.set({ limit: limit as LimitName }, n); },
  });
  g('tickwire_ip_tracked', 'Client addresses held in the per-address limit tables (bounded)', () => limits.tracked);
  const rejected = new Counter({ name: 'tickwire_upgrades_rejected_total', help: 'WebSocket upgrades refused', labelNames: ['status'], registers: [registry] });
  return { registry, rejected };
}
