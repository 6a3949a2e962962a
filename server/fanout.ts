/**
 * Per-tick snapshot fan-out of a room (Quake 3 model).
 *
 * Each tick's world is quantized once into a Frame and kept in a history ring
 * shared by all clients. A client's snapshot is the delta from the last frame it
 * acknowledged — filtered by the view it was sent with — to the current frame
 * filtered by its current view. Bodies are memoized per (baseline tick, baseline
 * view, current view) within the tick (DeltaCache), so clients that share a
 * baseline and a view share one encode; per client there is only the framing:
 * a small header (lastSeq, the own-position anchor while inputs are guessed)
 * around the shared body and the shared encoded events (private notices aside).
 *
 * A client whose socket is backed up is skipped this tick: its baseline stays
 * its last ack, so the next delta still applies and nothing is lost. Events are
 * delivered from the tick after the last snapshot it received.
 */
import { type World, findPlayer } from '../game/sim/index.ts';
import { ARENA_SCHEMA, worldToFrame } from '../game/sim/netschema.ts';
import { encodeEvents, frameSnapshot } from '../netcode/codec.ts';
import { FrameBuilder } from '../netcode/frame.ts';
import { SnapshotHistory } from '../netcode/history.ts';
import { ALL_VIEW, INTEREST_OFF, type InterestConfig } from '../netcode/interest.ts';
import { EV_ROSTER, type RosterEntry, type WireEvent } from '../netcode/protocol.ts';
import { DeltaCache } from '../netcode/snapcache.ts';
import type { Config } from './config.ts';
import type { Pos } from './inputs.ts';
import type { Member } from './member.ts';

export class SnapshotFanout {
  private readonly history: SnapshotHistory;
  private readonly cache: DeltaCache;
  private readonly builder = new FrameBuilder(ARENA_SCHEMA);
  private readonly eventTicks: Int32Array;
  private readonly eventLog: WireEvent[][];
  private tick = -1;
  /** Encoded event lists of the current tick, by the tick a client last got events for. */
  private readonly eventBytes = new Map<number, Uint8Array>();
  private readonly interest: boolean; // false: everyone sees everything, no per-client view to compute
  /** Snapshots not sent because the client's socket was backed up. */
  skipped = 0;
  /** Snapshots sent, and their bytes. */
  sent = 0;
  bytes = 0;

  constructor(private readonly cfg: Config) {
    this.history = new SnapshotHistory(cfg.historyTicks);
    const interest: InterestConfig = cfg.viewRadius > 0
      ? { cellSize: cfg.viewCell, radius: Math.ceil(cfg.viewRadius / cfg.viewCell) }
      : INTEREST_OFF;
    this.cache = new DeltaCache({ schema: ARENA_SCHEMA, history: this.history, interest });
    this.interest = cfg.viewRadius > 0;
    this.eventTicks = new Int32Array(cfg.historyTicks).fill(-1);
    this.eventLog = new Array(cfg.historyTicks).fill(null).map(() => []);
  }

  /** Quantizes this tick's world into the history and logs its events. */
  record(world: World, events: WireEvent[]): void {
    this.history.push(worldToFrame(this.builder, world, world.tick));
    this.cache.beginTick(world.tick);
    this.tick = world.tick;
    const i = world.tick % this.eventTicks.length;
    this.eventTicks[i] = world.tick;
    this.eventLog[i] = events;
    this.eventBytes.clear();
  }

  has(tick: number): boolean {
    return this.history.get(tick) !== undefined;
  }

  /** Sends each welcomed member its snapshot of the recorded tick. */
  send(members: Iterable<Member>, world: World, roster: () => RosterEntry[], anchorOf: (m: Member) => Pos | null): void {
    const tick = this.tick;
    for (const m of members) {
      const link = m.link;
      if (!link || !m.welcomed) continue;
      if (link.buffered() > this.cfg.backpressureBytes) {
        m.snapshotsSkipped++;
        this.skipped++;
        continue;
      }
      const me = this.interest ? findPlayer(world, m.playerId) : undefined;
      const view = me ? this.cache.views.viewKeyFor(me.x, me.y) : ALL_VIEW;
      const baseView = m.ackTick ? m.sent.get(m.ackTick) : undefined;
      const snap = this.cache.get(baseView === undefined ? 0 : m.ackTick, baseView ?? ALL_VIEW, view);
      let events = this.eventBytes.get(m.eventTick);
      if (!events || m.notices.length) {
        const list = this.eventsSince(m.eventTick, tick, roster);
        if (m.notices.length) {
          list.push(...m.notices);
          m.notices.length = 0;
          events = encodeEvents(list);
        } else {
          events = encodeEvents(list);
          this.eventBytes.set(m.eventTick, events);
        }
      }
      const bytes = frameSnapshot(tick, snap.baseTick, m.inputs.lastSeq, snap.checksum, snap.body, events, anchorOf(m) ?? undefined);
      link.send(bytes);
      this.sent++;
      this.bytes += bytes.byteLength;
      m.sent.record(tick, view);
      m.eventTick = tick;
    }
  }

  /** Events of ticks (from, to]; a roster first when some of them already left the log. */
  private eventsSince(from: number, to: number, roster: () => RosterEntry[]): WireEvent[] {
    const out: WireEvent[] = [];
    const cap = this.eventTicks.length;
    if (to - from > cap) {
      out.push([EV_ROSTER, roster()]);
      from = to - cap;
    }
    for (let t = from + 1; t <= to; t++) {
      const i = t % cap;
      if (this.eventTicks[i] === t) out.push(...this.eventLog[i]);
    }
    return out;
  }
}
