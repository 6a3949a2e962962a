/**
 * One match in one room: the glue between the connection (session), the local
 * player's prediction (own), remote interpolation (view) and the HUD, chat and
 * netgraph. The scene calls `frame(now, intent)` once per rendered frame and
 * draws what it returns; nothing here touches Phaser or reads a clock.
 *
 * Inputs go out once per server tick (pacer.ts), each carrying the redundant
 * tail of unacknowledged inputs (NetClient), the newest acked snapshot and the
 * tick we were looking at (floor of the render tick, for lag compensation).
 *
 * A spectator (`spectate`, welcomed with playerId 0) has no OwnPlayer: no prediction,
 * no inputs, every player interpolated; the session sends it only pings and ACK 0.
 */
import { PHASE_PLAY } from '../../sim/state.ts';
import { radiansToAim } from '../../sim/movement.ts';
import type { SnapshotInfo } from '../../../netcode/client.ts';
import type { NetSimOptions } from '../../../netcode/netsim.ts';
import type { WireEvent } from '../../../netcode/protocol.ts';
import type { SocketState, WebSocketLike } from '../../../netcode/socket.ts';
import type { StateInfo } from './link.ts';
import type { Diagnosis } from './diagnose.ts';
import { Events, type EventSink, lostSeat, type RoomSeen } from './events.ts';
import type { Score } from './hud.ts';
import { RateMeter, SampleRing } from './metrics.ts';
import { OwnPlayer, type LocalShot } from './own.ts';
import { Session } from './session.ts';
import { InputPacer } from './pacer.ts';
import { closeMessage, describe, type ConnInfo } from './status.ts';
import type { Transport } from './transport.ts';
import { type PlayerState, RemoteView, type WorldView } from './view.ts';

export interface Intent {
  buttons: number;
  aim: number | null; // radians; null keeps the last aim
}

export interface FrameOut {
  world: WorldView | null;
  me: number;
  /** Where to draw the local player (prediction), or null to use the world's copy. */
  ownPos: { x: number; y: number } | null;
  ownAim: number; // radians
  localShots: readonly LocalShot[];
}

export interface MatchOptions {
  code: string;
  /** The socket URL of the next attempt, at `target` (an instance's endpoint) or, when null, the default one. */
  url: (target: string | null) => string;
  /** Where the first attempt goes (the owner of a room just created), or null. */
  target?: string | null;
  sim: NetSimOptions | null;
  clock: () => number;
  random: () => number;
  /** Watch without a seat (`&spectate=1`). */
  spectate?: boolean;
  transport?: Transport;
  sink: EventSink;
  /** The server closed the match for good (final close code) or we cannot get in. */
  onEnd: (reason: string) => void;
  /** Diagnoses a connection that does not open (full room? refused token?) after `failures` attempts. */
  diagnose: (failures: number) => Promise<Diagnosis>;
  /** Gets a new session token (the next attempt's URL uses it). */
  renew: () => Promise<void>;
  onSocket?: (ws: WebSocketLike) => void;
  /** The connection state changed (shown at once, not at the next frame: frames may be slow). */
  onConnection?: (info: ConnInfo) => void;
}

const NO_SHOTS: readonly LocalShot[] = [];

export class Match {
  readonly session: Session;
  own: OwnPlayer | null = null;
  view: RemoteView | null = null;
  readonly scores = new Map<number, Score>();
  readonly frameWork = new SampleRing(300);
  readonly frames = new RateMeter(1000);
  readonly events: Events;
  /** The last frame handed to the scene (tests and the console read positions from it). */
  lastOut: FrameOut | null = null;
  private readonly out: FrameOut = { world: null, me: 0, ownPos: null, ownAim: 0, localShots: [] };
  private readonly pacer = new InputPacer();
  private lastFrameAt: number | null = null;
  private aim = 0; // 16-bit
  lastWorld: WorldView | null = null;
  private failedAttempts = 0;
  private unsettled: { snap: SnapshotInfo; at: number } | null = null;
  private readonly scratch: PlayerState = { id: 0, x: 0, y: 0, hp: 0, score: 0, kills: 0, deaths: 0 };
  private ended = false;
  /** The room as of the last WELCOME and snapshot; null until the first WELCOME. */
  private seen: RoomSeen | null = null;
  /** WELCOMEs into a room that had started over (our seat and the scores gone). */
  restarts = 0;
  /** Operator announcements received. */
  announcements = 0;

  constructor(private readonly opts: MatchOptions) {
    const sink: EventSink = { ...opts.sink, announce: (text) => {
      this.announcements++;
      opts.sink.announce(text);
    } };
    this.events = new Events(sink, () => this.session.net);
    this.session = new Session({
      url: opts.url, target: opts.target, sim: opts.sim, clock: opts.clock, random: opts.random, onSocket: opts.onSocket,
      transport: opts.transport,
      handlers: {
        welcome: (ev, now) => {
          this.failedAttempts = 0;
          const before = this.seen;
          this.seen = { instance: ev.instance, tick: ev.serverTick };
          // A fresh seat (first join, or the server restarted and forgot us) starts a new time line:
          // new interpolation statistics and a clock that forgets the old room's pings.
          const watching = ev.playerId === 0;
          if (!this.view || !ev.resumed || this.view.interp.period !== 1000 / ev.tickRate || !this.own !== watching) {
            this.own = watching ? null : new OwnPlayer(ev.tickRate);
            this.view = new RemoteView(this.session.net.replica, ev.tickRate);
            this.scores.clear();
            if (!ev.resumed) this.session.clock.reset();
          }
          this.own?.expectTeleport();
          this.pacer.welcome();
          if (before && !ev.resumed) {
            const lost = lostSeat(before, ev.instance, ev.serverTick);
            if (lost.restarted) this.restarts++;
            if (!watching || lost.restarted) opts.sink.notice(lost.text); // a spectator had no seat to lose
          }
          if (watching) opts.sink.notice(`${ev.resumed ? 'Back to watching' : 'Watching'} room ${ev.room}.`);
          else this.events.welcome(ev.resumed, now);
          this.opts.onConnection?.(this.connection);
        },
        snapshot: (snap, now) => this.onSnapshot(snap, now),
        events: (events, now) => this.onEvents(events, now),
        error: (_code, reason) => opts.sink.notice(`Server: ${reason}`),
        state: (state, info) => this.onState(state, info),
      },
    });
  }

  start(now: number): void {
    this.session.connect(now);
  }

  get me(): number {
    return this.session.net.playerId;
  }

  /** Watching without a seat: asked for, or so welcomed. */
  get spectator(): boolean {
    return this.opts.spectate === true || this.session.net.spectator;
  }

  get sim(): NetSimOptions | null {
    return this.opts.sim;
  }

  get connection(): ConnInfo {
    const s = this.session;
    const reason = s.lastError?.reason ?? s.stateInfo.reason ?? '';
    return describe(s.state, s.welcomed, s.link.socket.nextRetryAt, this.opts.clock(), reason, s.moving, s.stateInfo.code ?? 0);
  }

  /**
   * Every snapshot: its events, and its arrival for the interpolator (cheap).
   * The entity work (reconcile, scores) is done once for the newest snapshot of
   * a batch in `settle`: after a stall a frame may drain dozens of snapshots,
   * and only the newest position matters to the prediction.
   */
  private onSnapshot(snap: SnapshotInfo, now: number): void {
    if (this.seen) this.seen.tick = snap.tick;
    if (!this.view) return;
    this.onEvents(snap.events, now);
    const clock = this.session.clock;
    this.view.onSnapshot(snap.tick, now, clock.ready ? clock.serverNow(now) : null);
    this.unsettled = { snap, at: now };
  }

  /** Chat, kills, joins, round changes: from every snapshot, applied or not. */
  private onEvents(events: WireEvent[], now: number): void {
    if (this.events.snapshot(events, now)) {
      this.own?.expectTeleport(); // a new round moved everyone
      for (const s of this.scores.values()) s.score = s.kills = s.deaths = 0;
    }
  }

  private settle(): void {
    const u = this.unsettled;
    if (!u || !this.view) return;
    this.unsettled = null;
    let mine: { x: number; y: number; hp: number } | undefined;
    const me = this.me;
    this.view.eachPlayer(u.snap.tick, this.scratch, (o) => {
      const s = this.scores.get(o.id);
      if (s) {
        s.score = o.score;
        s.kills = o.kills;
        s.deaths = o.deaths;
      } else {
        this.scores.set(o.id, { score: o.score, kills: o.kills, deaths: o.deaths });
      }
      if (o.id === me) mine = { x: o.x, y: o.y, hp: o.hp };
    });
    this.own?.onSnapshot(mine, u.snap.own, u.snap.lastSeq, u.at);
  }

  private onState(state: SocketState, info: StateInfo): void {
    if (this.ended) return;
    this.opts.onConnection?.(this.connection);
    if (state === 'closed') {
      const code = this.session.lastError?.code ?? info.code ?? 0;
      const reason = this.session.lastError?.reason || info.reason || '';
      this.end(closeMessage(code, reason));
      return;
    }
    if (state === 'reconnecting' && !this.session.welcomed) {
      this.failedAttempts++;
      // Refusals (full room, bad token) happen before the socket opens: the browser only sees a failure.
      if (!this.session.everWelcomed || this.failedAttempts >= 3) {
        void this.opts.diagnose(this.failedAttempts).then((d) => {
          if (d.kind === 'end') this.end(d.reason);
          else if (d.kind === 'renew' && !this.ended) {
            this.failedAttempts = 0;
            void this.opts.renew();
          }
        });
      }
    }
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.session.close();
    this.opts.onEnd(reason);
  }

  /** Background upkeep when no frames are drawn (hidden tab): keeps the socket and its timers alive. */
  idle(now: number): void {
    if (this.lastFrameAt !== null && now - this.lastFrameAt < 250) return;
    this.session.update(now);
    this.settle();
    this.session.ackIdle(now); // no inputs go out without frames
  }

  /** One rendered frame: network in, inputs out (per tick), the world to draw. */
  frame(now: number, intent: Intent): FrameOut {
    this.frames.add(now);
    const dtMs = this.lastFrameAt === null ? 0 : now - this.lastFrameAt;
    this.lastFrameAt = now;
    this.session.update(now);
    this.settle();
    if (intent.aim !== null) this.aim = radiansToAim(intent.aim);
    const clock = this.session.clock;
    const serverNow = clock.ready ? clock.serverNow(now) : null;
    const world = this.view?.build(serverNow) ?? null;
    this.lastWorld = world;
    this.sendInputs(now, dtMs, intent.buttons, world);
    const own = this.own;
    // One FrameOut, refilled each frame (only the newest is read).
    const out = this.out;
    out.world = world;
    out.me = this.me;
    out.ownPos = own?.renderPosition(now) ?? null;
    out.ownAim = (this.aim / 65536) * Math.PI * 2;
    out.localShots = own?.liveShots(now) ?? NO_SHOTS;
    this.lastOut = out;
    return out;
  }

  private sendInputs(now: number, dtMs: number, buttons: number, world: WorldView | null): void {
    const own = this.own;
    const s = this.session;
    if (!own || !s.live) {
      this.pacer.idle();
      return;
    }
    const viewTick = world ? Math.max(0, Math.floor(world.renderTick)) : s.net.serverTick;
    const canFire = world?.round?.phase === PHASE_PLAY;
    const sent = this.pacer.step(dtMs, 1000 / s.tickRate, buttons, this.aim, {
      make: (input) => s.net.input(input, viewTick, now),
      send: (bytes) => s.send(bytes, now),
      made: (seq, input) => own.onInput(seq, input, canFire, now),
    });
    if (sent) s.link.update(now); // flush at once rather than next frame
  }

  /** Records the cost of one frame (netcode + scene update, ms). */
  recordWork(ms: number): void {
    this.frameWork.add(ms);
  }

  close(): void {
    this.ended = true;
    this.session.close();
  }
}
