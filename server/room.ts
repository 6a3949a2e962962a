/**
 * The authority for one room: the messages of its members, their input queues, the
 * fixed-step simulation, events and chat. Who holds a seat and for how long is
 * `Seating`'s (seating.ts); snapshots go out through `SnapshotFanout` (fanout.ts).
 * Transport-agnostic (members talk through `Link`) and clock-free: every method
 * takes `now` (ms) from its caller, so tests drive it on virtual time with
 * in-memory links.
 */
import {
  addPlayer, createWorld, type Input, MAX_REWIND, placePlayer, type RewoundPositions, removePlayer, step, type World,
} from '../game/sim/index.ts';
import { decodeClient, encodeServer, type InputBatch, inputBatch, readInput } from '../netcode/codec.ts';
import {
  C_ACK, C_CHAT, C_HELLO, C_INPUT, C_PING, CLOSE_BAD_MESSAGE, CLOSE_NO_HELLO, CLOSE_RATE_LIMIT, CLOSE_ROOM_CLOSED,
  type ClientMessage, EV_ANNOUNCE, EV_CHAT, EV_DROP, EV_JOIN, EV_LEAVE, EV_NOTICE, EV_RESUME, PROTOCOL_VERSION,
  type RosterEntry, S_MOVE, S_PONG, S_WELCOME, type WireEvent,
} from '../netcode/protocol.ts';
import type { Config } from './config.ts';
import { toWire } from './events.ts';
import { RewindBuffer } from '../netcode/rewind.ts';
import type { AppliedLog, Pos, QueueSeat } from './inputs.ts';
import type { Member } from './member.ts';
import {
  SEAT_ACK, SEAT_QUEUE, SEAT_SOCKET, SEAT_TAT, SEAT_VIEW, type SeatContext, seatContext, seatSent, SENT_ALL_VIEW,
  SENT_ASK_RING, SOCKET_NONE, SOCKET_WELCOMED,
} from './seats.ts';
import { SnapshotFanout } from './fanout.ts';
import type { Recording } from '../netcode/replay.ts';
import { MatchRecorder } from './recorder.ts';
import type { ChatLine, RoomState } from './roomstate.ts';
import { refuse, refuseVersion, Seating } from './seating.ts';
import type { Channel, Link } from './transport.ts';
import { type Viewer, type WatchHost, Watchers } from './watchers.ts';
import { WireStats } from './wirestats.ts';

export interface SnapshotCounts {
  sent: number;
  shared: number;
  skipped: number;
  /** Clients closed as too slow (CLOSE_TOO_SLOW). */
  slowClosed: number;
}

export interface RoomOptions {
  code: string;
  config: Config;
  now: number; // ms
  seed: number;
  /** The room's broadcast channel; without one every snapshot goes out as a private copy. */
  channel?: Channel;
  /** Where refusals and HELLOs are counted (the manager's, for /metrics); a room of its own by default. */
  wire?: WireStats;
  /** Where finished recordings go (the replay store); without it the room records nothing. */
  replays?: ReplaySink;
}

export interface ReplaySink {
  save(rec: Recording): void;
  /** Wall-clock ms since the epoch (a recording's start and end times). */
  epoch(): number;
}

export class Room implements WatchHost {
  readonly code: string;
  world: World;
  readonly dt: number; // s, fixed
  private readonly cfg: Config;
  /** Who holds a seat, since when, and until when. */
  private readonly seating: Seating;
  /** `seating.rowOf`, held here too: the step reads it for every player. */
  private readonly rowOf: Map<number, number>;
  /** Recent player positions by tick, for lag compensation. */
  private readonly rewind: RewindBuffer;
  private readonly rewindTicks: number;
  private pending: WireEvent[] = []; // events of the tick in progress
  private readonly batch = inputBatch(); // the INPUT being handled (scratch)
  private readonly stepInputs = new Map<number, Input | readonly Input[]>(); // this step's inputs by player id (scratch)
  /** The step's single inputs, one object per player in turn (InputQueue.plan's `out`): reused, side by side, warm. */
  private readonly ones: Input[] = [];
  /** Lag compensation: a shooter's targets where it saw them. */
  private readonly stepOptions = { rewind: { get: (shooter: number) => this.seenBy(shooter) } };
  private readonly fanout: SnapshotFanout;
  private readonly wire: WireStats;
  /** Its spectators (watchers.ts): no seat, the shared snapshots, no inputs. */
  readonly watchers: Watchers;
  /** On its way to another instance (a drain): it steps no more here, and chat said meanwhile is kept (takeChat). */
  frozen = false;
  private lastStepAt: number; // ms
  /** The members' seat table, message limit and applied-input log. */
  private readonly seats: SeatContext;
  private readonly seatData: Float64Array; // the seat table's numbers
  /** Each player's seat state for the snapshot (its input queue: lastSeq and anchor). */
  private readonly seatOf = (playerId: number): QueueSeat | undefined => {
    const row = this.rowOf.get(playerId);
    return row === undefined ? undefined : this.seats.inputRule.seat(this.seatData, row + SEAT_QUEUE, this.seatScratch, this.anchorScratch);
  };
  private readonly seatScratch: QueueSeat = { lastSeq: 0, anchor: null };
  private readonly replays: ReplaySink | null;
  /** The match being recorded (recorder.ts), when recording is on. */
  private recorder: MatchRecorder | null = null;
  private readonly anchorScratch: Pos = { x: 0, y: 0 };

  constructor(opts: RoomOptions) {
    this.code = opts.code;
    this.cfg = opts.config;
    this.dt = 1 / opts.config.tickRate;
    this.world = createWorld({ seed: opts.seed, npcCount: opts.config.npcCount });
    this.rewindTicks = Math.ceil(MAX_REWIND * opts.config.tickRate);
    this.rewind = new RewindBuffer(this.rewindTicks + 1);
    this.fanout = new SnapshotFanout(opts.config, opts.channel ?? null);
    this.seats = seatContext(opts.config, opts.config.maxPlayersPerRoom);
    this.seatData = this.seats.table.data;
    this.wire = opts.wire ?? new WireStats();
    this.watchers = new Watchers(opts.config, this.wire);
    this.seating = new Seating(opts.code, opts.config, this.seats, opts.now, this.wire);
    this.rowOf = this.seating.rowOf;
    this.fanout.record(this.world, [], this.seatOf);
    this.lastStepAt = opts.now;
    this.replays = opts.config.replayDir !== '' ? opts.replays ?? null : null;
    this.recordFrom();
  }

  /** Starts recording from the world as it is now. */
  private recordFrom(): void {
    if (!this.replays) return;
    const startedAt = this.replays.epoch();
    const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const names = new Map<number, string>();
    for (const m of this.seating.byPlayer.values()) names.set(m.playerId, m.name);
    this.recorder = new MatchRecorder({
      id: `${this.code.toLowerCase()}-${stamp}-t${this.world.tick}`, room: this.code, instance: this.cfg.instanceId, tickRate: this.cfg.tickRate,
      keyframeEvery: Math.max(1, Math.round(this.cfg.replayKeyframeS * this.cfg.tickRate)), maxBytes: this.cfg.replayMaxKb * 1024,
      world: this.world, names, rewind: this.rewind, startedAt,
    });
  }

  /**
   * Closes the recording (`reason`: round_end, closed, moved, limit) and hands it to the
   * store, unless it is shorter than REPLAY_MIN_S; `next` starts the next one from here.
   */
  endRecording(reason: string, next = false): void {
    const rec = this.recorder;
    if (!rec || !this.replays) return;
    this.recorder = null;
    if (rec.stepCount > 0 && rec.stepCount >= this.cfg.replayMinS * this.cfg.tickRate) {
      this.replays.save(rec.finish(reason, this.world.round.number, this.replays.epoch(), this.world));
    }
    if (next) this.recordFrom();
  }

  /** Receive times (ms) of the real inputs the last step applied, in `at[0 .. count)` (input-to-ack latency). */
  get applied(): Readonly<AppliedLog> {
    return this.seats.applied;
  }

  /**
   * The room's clock in ms, in which tick T happened at T * period: what PONG
   * reports, so a client can place snapshot ticks on its own time line.
   */
  roomTime(now: number): number {
    const period = 1000 / this.cfg.tickRate;
    return this.tick * period + Math.min(period, Math.max(0, now - this.lastStepAt));
  }

  get tick(): number {
    return this.world.tick;
  }

  /** Seats taken by players (connected or within their resume grace). */
  get playerCount(): number {
    return this.seating.playerCount;
  }

  /** Seats of any kind, including sockets that have not said HELLO yet. */
  get memberCount(): number {
    return this.seating.members.size;
  }

  get connectedCount(): number {
    return this.seating.connected;
  }

  /** Since when nobody has had a socket here (ms); null while someone has. */
  get emptySince(): number | null {
    return this.seating.emptySince;
  }

  /** Snapshots sent (shared ones included), sent through the channel, and skipped for backed-up sockets. */
  get snapshotCounts(): SnapshotCounts {
    return { sent: this.fanout.sent, shared: this.fanout.shared, skipped: this.fanout.skipped, slowClosed: this.fanout.slowClosed };
  }

  /**
   * This room as a restart or a hand-over saves it (server/roomstate.ts): the world as of
   * its last step, and the chat said since (taken: a room saves once, then goes).
   */
  state(): RoomState {
    return {
      code: this.code, world: this.world, seats: this.seating.seatStates(), banned: this.seating.bannedSessions(), chat: this.takeChat(),
    };
  }

  /** Stops the room for a hand-over (it steps no more here) and returns its state. */
  freeze(): RoomState {
    this.frozen = true;
    this.endRecording('moved');
    return this.state();
  }

  /** Chat said since the last step or the last call, taken out of the events the next step would send. */
  takeChat(): ChatLine[] {
    const chat: ChatLine[] = [];
    this.pending = this.pending.filter((e) => {
      if (e[0] !== EV_CHAT) return true;
      chat.push([e[1] as number, e[2] as string]);
      return false;
    });
    return chat;
  }

  /** Chat of players of this room said elsewhere (before a hand-over): everyone sees it with the next snapshot. */
  addChat(chat: readonly ChatLine[]): void {
    for (const [id, text] of chat) if (this.seating.byPlayer.has(id)) this.pending.push([EV_CHAT, id, text]);
  }

  /** Puts a saved room's world and seats into this fresh room (nobody here yet); its players dropped `awayMs` ago. */
  restore(s: RoomState, now: number, awayMs = 0): void {
    this.seating.restore(s.seats, s.banned, now - awayMs);
    this.world = s.world;
    this.fanout.record(this.world, [], this.seatOf);
    this.lastStepAt = now;
    this.addChat(s.chat);
    this.recorder = null; // nothing was recorded in this fresh room: start from the restored world
    this.recordFrom();
  }

  /**
   * The room now runs on instance `instance` (its endpoint `url`): every socket here is told
   * so (MOVE). Returns them, for the caller to close (CLOSE_REDIRECT) a moment later: a
   * client hangs up by itself once it read the MOVE, and closing first behind a proxy can
   * lose the MOVE (see ReconnectingSocket.follow).
   */
  moveAll(url: string, instance: string, reason: string): Link[] {
    const move = encodeServer({ type: S_MOVE, url, instance, reason });
    const links: Link[] = [];
    for (const m of this.seating.members.values()) {
      if (!m.link) continue;
      m.link.send(move);
      links.push(m.link);
    }
    for (const l of this.watchers.links()) {
      l.send(move);
      links.push(l);
    }
    return links;
  }

  /** The fan-out still holds `tick` as a baseline. */
  holds(tick: number): boolean {
    return this.fanout.has(tick);
  }

  /** A spectator's connection opened (`spectate=1`); null when refused (too many spectators). */
  watch(link: Link, sid: string, now: number): Viewer | null {
    return this.watchers.add(link, sid, now);
  }

  /** One message from a spectator (watchers.ts: HELLO, PING, ACK 0; INPUT and CHAT are refused). */
  receiveWatcher(v: Viewer, bytes: Uint8Array, now: number): void {
    this.watchers.receive(v, bytes, now, this);
  }

  unwatch(v: Viewer): void {
    this.watchers.remove(v);
  }

  /** Whether a session may open a socket here (checked at the upgrade, before the socket exists). */
  admits(sid: string): { ok: true } | { ok: false; reason: string } {
    return this.seating.admits(sid);
  }

  /** A socket opened for this session. Returns the member, or null if the room filled meanwhile. */
  connect(sid: string, name: string, link: Link, now: number): Member | null {
    return this.seating.connect(sid, name, link, now);
  }

  /**
   * One message from a member's socket. Bad input closes that socket only.
   * `row` is `m.row`, which the socket keeps while it is open (a member's seat is
   * released only after its sockets closed): the common message, an INPUT from a
   * welcomed client, reads and writes only that row of the seat table, and loads
   * neither the member nor its queue (each a cold cache miss among 500 clients).
   * Without `row`, a member whose seat was released (its row may be someone else's
   * now) is ignored, like any member without a socket.
   */
  receive(m: Member, bytes: Uint8Array, now: number, row = m.released ? -1 : m.row): void {
    if (row < 0) return;
    const seat = this.seatData;
    const socket = seat[row + SEAT_SOCKET]; // SOCKET_NONE exactly when m.link is null
    if (socket === SOCKET_NONE) return;
    if (!this.seats.msgRule.take(seat, row + SEAT_TAT, now)) {
      refuse(m.link as Link, CLOSE_RATE_LIMIT, 'too many messages', this.wire);
      return;
    }
    if (socket === SOCKET_WELCOMED && readInput(bytes, this.batch)) {
      this.input(row, m, this.batch, now);
      return;
    }
    const link = m.link as Link;
    const d = decodeClient(bytes);
    if (!d.ok) {
      refuse(link, CLOSE_BAD_MESSAGE, d.reason, this.wire);
      return;
    }
    if (socket !== SOCKET_WELCOMED && d.msg.type !== C_HELLO) {
      refuse(link, CLOSE_NO_HELLO, 'first message must be HELLO', this.wire);
      return;
    }
    this.handle(m, d.msg, now);
  }

  private handle(m: Member, msg: ClientMessage, now: number): void {
    switch (msg.type) {
      case C_HELLO:
        this.hello(m, msg.version, msg.resumeTick);
        return;
      case C_INPUT: {
        const b = this.batch;
        b.ackTick = msg.ackTick;
        b.viewTick = msg.viewTick;
        b.firstSeq = msg.inputs[0].seq;
        b.count = msg.inputs.length;
        msg.inputs.forEach((f, i) => { b.buttons[i] = f.buttons; b.aims[i] = f.aim; });
        this.input(m.row, m, b, now);
        return;
      }
      case C_ACK:
        this.ack(m.row, m, msg.ackTick);
        return;
      case C_PING:
        m.send(encodeServer({ type: S_PONG, clientTime: msg.clientTime, serverTime: this.roomTime(now) }));
        return;
      case C_CHAT:
        if (!m.chatBucket.take(now)) {
          // One pending notice says it all; a client that floods while not reading cannot grow this.
          m.notices ??= [[EV_NOTICE, 'Slow down: chat message not sent.']];
          return;
        }
        this.pending.push([EV_CHAT, m.playerId, msg.text]);
        return;
    }
  }

  /** An INPUT, from the fast reader or the general decoder, for the member in seat row `row`. */
  private input(row: number, m: Member, b: InputBatch, now: number): void {
    const seat = this.seatData;
    const rule = this.seats.inputRule;
    for (let i = 0; i < b.count; i++) {
      if (rule.offer(seat, row + SEAT_QUEUE, b.firstSeq + i, b.buttons[i], b.aims[i], now) < 0) {
        m.inputs.refused++; // full: the client resends it with its next message
        break;
      }
    }
    this.ack(row, m, b.ackTick);
    seat[row + SEAT_VIEW] = Math.min(b.viewTick, this.tick);
  }

  private hello(m: Member, version: number, resumeTick: number): void {
    if (!m.link) return;
    if (version !== PROTOCOL_VERSION) {
      refuseVersion(m.link, version, this.wire);
      return;
    }
    if (m.welcomed) {
      refuse(m.link, CLOSE_BAD_MESSAGE, 'duplicate HELLO', this.wire);
      return;
    }
    const resumed = m.playerId !== 0;
    if (resumed) {
      this.wire.resumes++;
      m.droppedAt = null;
      this.pending.push([EV_RESUME, m.playerId]);
    } else {
      this.wire.joins++;
      const added = addPlayer(this.world);
      this.world = added.world;
      this.seating.seat(m, added.id);
      this.recorder?.join(added.id, m.name);
      this.pending.push([EV_JOIN, m.playerId, m.name]);
    }
    m.welcomed = true;
    m.inputs.rejoin();
    // Continue by delta from what the client still holds, if we sent it and still have it.
    m.ackTick = resumeTick > 0 && m.sentView(resumeTick) !== undefined && this.fanout.has(resumeTick) ? resumeTick : 0;
    m.eventTick = this.tick; // the roster in WELCOME covers everything before now
    m.restartSends();
    m.send(encodeServer({
      type: S_WELCOME, version: PROTOCOL_VERSION, playerId: m.playerId, tickRate: this.cfg.tickRate,
      serverTick: this.tick, room: this.code, roster: this.roster(), resumed, lastSeq: m.inputs.lastSeq,
      instance: this.cfg.instanceId, watchers: this.watchers.count,
    }));
  }

  private ack(row: number, m: Member, tick: number): void {
    const seat = this.seatData;
    // 0 = "I hold nothing usable" (a client that desynced asks for a full snapshot this way).
    if (tick === 0) seat[row + SEAT_ACK] = 0;
    // Only a tick we sent this client and still hold can be its baseline.
    else if (tick > seat[row + SEAT_ACK] && tick <= this.tick && this.wasSent(row, m, tick)) seat[row + SEAT_ACK] = tick;
  }

  /** `m.sentView(tick) !== undefined`, from the seat row while the member's shared run answers. */
  private wasSent(row: number, m: Member, tick: number): boolean {
    const known = seatSent(this.seatData, row, tick, this.seats.ringTicks);
    return known === SENT_ASK_RING ? m.sentPrivately(tick) !== undefined : known === SENT_ALL_VIEW; // not sentView: seatSent again
  }

  /** The member's socket closed (any reason). Its seat stays for the resume grace period. */
  disconnect(m: Member, link: Link, now: number): void {
    if (this.seating.disconnect(m, link, now)) this.pending.push([EV_DROP, m.playerId]);
  }

  roster(): RosterEntry[] {
    return this.seating.roster();
  }

  /** Runs one fixed step and sends every client its snapshot. */
  step(now: number): void {
    this.lastStepAt = now;
    this.seats.applied.count = 0;
    this.seating.expire(now, this.left);
    const watchers = this.watchers;
    if (watchers.count > 0 && (this.world.tick & 31) === 0) watchers.expire(now);
    // No player on: the world waits (dropped players resume where they left); a new spectator sees it as it is.
    if (this.connectedCount === 0) {
      if (watchers.count > 0) this.fanout.catchUp(watchers.all, () => this.roster());
      return;
    }
    const told = watchers.news();
    if (told) this.pending.push(told);
    // Every player gets an entry every step (an empty list for none), and a player's entry
    // goes when the player does: a Map cleared each step regrows its table, 0.7 MB/s of garbage.
    const inputs = this.stepInputs;
    const seat = this.seatData;
    const rule = this.seats.inputRule;
    const rec = this.recorder;
    let world = this.world;
    let k = 0;
    for (const p of this.world.players) {
      const row = this.rowOf.get(p.id);
      if (row === undefined) {
        inputs.set(p.id, NO_INPUTS);
        rec?.inputs(p.id, NO_INPUTS);
        continue;
      }
      this.ones[k] ??= { buttons: 0, aim: 0 };
      const out = this.ones[k];
      const canGuess = seat[row + SEAT_SOCKET] !== SOCKET_NONE && p.hp > 0; // a dropped player is not guessed for
      const plan = rule.plan(seat, row + SEAT_QUEUE, p, world.round.number * 65536 + p.deaths, canGuess, this.dt, out);
      if (plan.one !== undefined) k++;
      if (plan.setPos) {
        world = placePlayer(world, p.id, plan.setPos.x, plan.setPos.y);
        rec?.place(p.id, plan.setPos.x, plan.setPos.y);
      }
      inputs.set(p.id, plan.one ?? plan.inputs);
      rec?.inputs(p.id, plan.one ?? plan.inputs);
    }
    this.world = step(world, inputs, this.dt, this.stepOptions);
    this.rewind.record(this.world.tick, this.world.players);
    if (rec) {
      rec.stepped(this.world);
      if (this.world.events.some((e) => e.kind === 'round_end')) this.endRecording('round_end', true);
      else if (rec.full) this.endRecording('limit', true);
    }
    for (const e of this.world.events) this.pending.push(toWire(e));
    const events = this.pending;
    this.pending = [];
    this.fanout.record(this.world, events, this.seatOf);
    this.fanout.send(this.seats, this.world, () => this.roster(), watchers.all);
  }

  /** Other players where `shooter` saw them: its view tick, bounded by MAX_REWIND. Called only for shots fired. */
  private seenBy(shooter: number): RewoundPositions | undefined {
    const m = this.seating.byPlayer.get(shooter);
    if (!m) return undefined;
    const tick = Math.max(m.viewTick, this.tick - this.rewindTicks);
    const seen = this.rewind.at(tick, shooter);
    this.recorder?.saw(shooter, seen ? tick : -1);
    if (seen) return seen;
    const now = new Map<number, { x: number; y: number }>(); // a tick not held (none yet): where they are now
    for (const o of this.world.players) if (o.id !== shooter) now.set(o.id, { x: o.x, y: o.y });
    return now;
  }

  /** A player whose resume grace ran out leaves the world (its seat is freed after this). */
  private readonly left = (playerId: number): void => {
    this.world = removePlayer(this.world, playerId);
    this.recorder?.leave(playerId);
    this.pending.push([EV_LEAVE, playerId]);
    this.stepInputs.delete(playerId);
  };

  /** Closes every socket (server shutdown). */
  closeAll(code: number, reason: string): void {
    this.endRecording('closed');
    this.watchers.closeAll(code, reason, false);
    this.seating.closeAll(code, reason);
  }

  /**
   * An operator closes the room: every socket is told why (S_ERROR) and closed with
   * CLOSE_ROOM_CLOSED, which a client does not reconnect after. The caller removes the
   * room. Returns how many players were connected.
   */
  close(reason: string): number {
    const connected = this.connectedCount;
    this.endRecording('closed');
    for (const m of this.seating.members.values()) if (m.link) refuse(m.link, CLOSE_ROOM_CLOSED, reason);
    this.watchers.closeAll(CLOSE_ROOM_CLOSED, reason);
    return connected;
  }

  /** An operator's announcement: every player here sees it with the next snapshot. */
  announce(text: string): void {
    this.pending.push([EV_ANNOUNCE, text]);
  }

  /** Kicks the members `match` picks (see Seating.kick); returns who was kicked. */
  kick(match: (sid: string, playerId: number) => boolean, reason: string): { id: number; name: string }[] {
    return this.seating.kick(match, reason).map((m) => ({ id: m.playerId, name: m.name }));
  }

  /** Who holds a seat here, for the admin API. */
  members(): { sid: string; id: number; name: string; connected: boolean; ip: string }[] {
    return [...this.seating.members.values()].map((m) => ({
      sid: m.sid, id: m.playerId, name: m.name, connected: m.link !== null, ip: m.link?.peer ?? '',
    }));
  }
}

const NO_INPUTS: readonly Input[] = [];
