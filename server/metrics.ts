/** Prometheus metrics (/metrics), collected from the room manager when scraped. */
import { Counter, Gauge, Registry } from 'prom-client';
import type { RoomManager } from './rooms.ts';

export function createMetrics(manager: RoomManager, uptimeS: () => number) {
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
  g('tickwire_uptime_seconds', 'Process uptime', uptimeS);
  const rejected = new Counter({ name: 'tickwire_upgrades_rejected_total', help: 'WebSocket upgrades refused', labelNames: ['status'], registers: [registry] });
  return { registry, rejected };
}
