/**
 * Who holds a seat in one room, and for how long: members by session and by player,
 * each player's seat row, the count of open sockets, and the seats that may expire.
 * The room's half that knows nothing of the world or the wire's snapshots: the Room
 * asks it to admit, bind, drop and expire, and does the world's part of each itself.
 *
 * Invariants:
 * - `members` is in join order (a Map keeps insertion order; a resume keeps its place),
 *   and everything that acts on several seats at once acts in that order.
 * - `connected` is the number of members whose `link` is not null.
 * - A member is in `expiring` while it has a socket that has not said HELLO, or has
 *   dropped with a player within its grace; the common tick walks nobody.
 * - A seat row is released only once its member has no socket.
 *
 * Clock-free: every method takes `now` (ms).
 */
import { encodeServer } from '../netcode/codec.ts';
import {
  CLOSE_BAD_VERSION, CLOSE_KICKED, CLOSE_NO_HELLO, CLOSE_REPLACED, CLOSE_ROOM_FULL, PROTOCOL_VERSION, type RosterEntry, S_ERROR,
} from '../netcode/protocol.ts';
import type { Config } from './config.ts';
import { Member } from './member.ts';
import type { SeatState } from './roomstate.ts';
import type { SeatContext } from './seats.ts';
import type { Link } from './transport.ts';
import type { WireStats } from './wirestats.ts';

/** Tells the client why, then closes; the socket's close handler then reports the drop. Counted in `wire` by code when given. */
export function refuse(link: Link, code: number, reason: string, wire?: WireStats): void {
  wire?.refuse(code);
  link.send(encodeServer({ type: S_ERROR, code, reason }));
  link.close(code, reason);
}

/** A HELLO of another protocol version: refused with CLOSE_BAD_VERSION, saying which one this server speaks. */
export function refuseVersion(link: Link, version: number, wire?: WireStats): void {
  refuse(link, CLOSE_BAD_VERSION, `protocol version ${version} not supported (server speaks ${PROTOCOL_VERSION})`, wire);
}

export class Seating {
  /** By session id, in join order. */
  readonly members = new Map<string, Member>();
  /** By player id: members that said HELLO at least once and still hold their player. */
  readonly byPlayer = new Map<number, Member>();
  /** Each player's seat row (its member's `row`): what the step reads instead of the member and its queue. */
  readonly rowOf = new Map<number, number>();
  /** Members with a socket: kept as a count, since the step asks every tick. */
  connected = 0;
  /** Since when nobody has had a socket here (ms); null while someone has. */
  emptySince: number | null;
  private readonly expiring = new Set<Member>();
  /** Sessions an operator kicked: refused at the door for the rest of the room's life. */
  private readonly banned = new Set<string>();

  constructor(
    private readonly code: string, private readonly cfg: Config, private readonly seats: SeatContext, now: number,
    private readonly wire?: WireStats,
  ) {
    this.emptySince = now;
  }

  /** Seats taken by players (connected or within their resume grace). */
  get playerCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.playerId) n++;
    return n;
  }

  /** Whether a session may open a socket here (checked at the upgrade, before the socket exists). */
  admits(sid: string): { ok: true } | { ok: false; reason: string } {
    if (this.banned.has(sid)) return { ok: false, reason: `you were removed from room ${this.code}` };
    if (this.members.has(sid)) return { ok: true }; // a resume always has its seat
    if (this.members.size >= this.cfg.maxPlayersPerRoom) {
      return { ok: false, reason: `room ${this.code} is full (${this.cfg.maxPlayersPerRoom} players)` };
    }
    return { ok: true };
  }

  /** A socket opened for this session. Returns the member, or null if the room filled meanwhile. */
  connect(sid: string, name: string, link: Link, now: number): Member | null {
    if (this.banned.has(sid)) {
      refuse(link, CLOSE_KICKED, `you were removed from room ${this.code}`, this.wire);
      return null;
    }
    let m = this.members.get(sid);
    if (m) {
      // Rebind first: the old socket's close handler (run synchronously by uWS) then sees a
      // link that is no longer current and leaves the seat alone.
      const old = m.link;
      if (old === null) this.connected++;
      m.link = link;
      m.welcomed = false;
      m.leaveChannel(); // a new socket starts outside the channel and with nothing sent
      m.restartSends();
      m.helloDeadline = now + this.cfg.helloTimeoutS * 1000;
      old?.close(CLOSE_REPLACED, 'replaced by a newer connection');
    } else {
      if (!this.admits(sid).ok) {
        refuse(link, CLOSE_ROOM_FULL, `room ${this.code} is full`, this.wire);
        return null;
      }
      m = new Member(sid, name, link, now, this.cfg, this.seats);
      this.members.set(sid, m);
      this.connected++;
    }
    this.expiring.add(m); // until its HELLO
    this.emptySince = null;
    return m;
  }

  /** A new player's first HELLO: the member now holds `playerId`. */
  seat(m: Member, playerId: number): void {
    m.playerId = playerId;
    this.byPlayer.set(playerId, m);
    this.rowOf.set(playerId, m.row);
  }

  /**
   * The member's socket closed (any reason). A player's seat stays for the resume
   * grace period; a socket that never got a player frees its seat at once. Returns
   * whether a player dropped (the room tells the others); false for a stale socket.
   */
  disconnect(m: Member, link: Link, now: number): boolean {
    if (m.link !== link) return false; // an older socket of a member that already reconnected
    m.link = null;
    this.connected--;
    m.welcomed = false;
    m.leaveChannel();
    let dropped = false;
    if (m.playerId) {
      // The grace period runs from the first drop: reconnecting without HELLO does not extend it.
      m.droppedAt ??= now;
      this.expiring.add(m);
      dropped = true;
    } else {
      this.members.delete(m.sid);
      this.expiring.delete(m);
      m.release();
    }
    if (this.connected === 0) this.emptySince = now;
    return dropped;
  }

  /**
   * Closes sockets that never said HELLO and frees seats whose resume grace ran out,
   * calling `left` for each such player (in join order) before its seat row is released.
   */
  expire(now: number, left: (playerId: number) => void): void {
    let due = false;
    for (const m of this.expiring) {
      if (m.link !== null && m.welcomed) this.expiring.delete(m); // said HELLO on its socket: nothing to expire until it drops
      else if (this.helloLate(m, now) || this.graceOver(m, now)) due = true;
    }
    if (!due) return;
    // Something expires: act in the members map's order (the order sessions joined), so
    // events come out in the same order whichever seat was put on watch first.
    for (const m of this.members.values()) {
      if (this.helloLate(m, now) && m.link !== null) refuse(m.link, CLOSE_NO_HELLO, 'no HELLO in time', this.wire);
      if (this.graceOver(m, now)) {
        left(m.playerId);
        this.members.delete(m.sid);
        this.expiring.delete(m);
        this.byPlayer.delete(m.playerId);
        this.rowOf.delete(m.playerId);
        m.release();
      }
    }
  }

  roster(): RosterEntry[] {
    const out: RosterEntry[] = [];
    for (const m of this.members.values()) if (m.playerId) out.push([m.playerId, m.name, m.link ? 1 : 0]);
    return out;
  }

  /**
   * An operator removes the members `match` picks: each is told why and closed with
   * CLOSE_KICKED (a client does not reconnect after it), its session is refused here
   * from now on, and its player leaves at the first expire after its socket closed.
   */
  kick(match: (sid: string, playerId: number) => boolean, reason: string): Member[] {
    const out: Member[] = [];
    for (const m of this.members.values()) {
      if (!match(m.sid, m.playerId)) continue;
      this.banned.add(m.sid);
      m.kicked = true;
      this.expiring.add(m);
      if (m.link) refuse(m.link, CLOSE_KICKED, reason, this.wire);
      out.push(m);
    }
    return out;
  }

  /** Each player's seat as saved (server/roomstate.ts), in join order. */
  seatStates(): SeatState[] {
    const out: SeatState[] = [];
    for (const m of this.members.values()) {
      if (m.playerId) out.push({ sid: m.sid, name: m.name, playerId: m.playerId, lastSeq: m.inputs.lastSeq });
    }
    return out;
  }

  /**
   * Seats of a saved room (an empty room only): each waits for its session for the resume
   * grace from `droppedAt`, with its player and last input seq, as if its socket had dropped then.
   */
  restore(saved: readonly SeatState[], banned: readonly string[], droppedAt: number): void {
    if (this.members.size > 0) throw new Error(`room ${this.code} is not empty: cannot restore seats into it`);
    for (const s of saved) {
      const m = new Member(s.sid, s.name, null, droppedAt, this.cfg, this.seats);
      m.inputs.restore(s.lastSeq);
      m.droppedAt = droppedAt;
      this.members.set(s.sid, m);
      this.seat(m, s.playerId);
      this.expiring.add(m);
    }
    for (const sid of banned) this.banned.add(sid);
  }

  /** Sessions an operator kicked from this room. */
  bannedSessions(): string[] {
    return [...this.banned];
  }

  /** Closes every socket (server shutdown). */
  closeAll(code: number, reason: string): void {
    for (const m of this.members.values()) m.link?.close(code, reason);
  }

  /** A socket that has not said HELLO in time. */
  private helloLate(m: Member, now: number): boolean {
    return m.link !== null && !m.welcomed && now > m.helloDeadline;
  }

  /** A dropped player whose resume grace ran out. */
  private graceOver(m: Member, now: number): boolean {
    return m.link === null && m.droppedAt !== null && (m.kicked || now - m.droppedAt > this.cfg.resumeGraceS * 1000);
  }
}
