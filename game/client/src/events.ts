/**
 * Turns the events riding on snapshots (joins, drops, chat, kills, rounds,
 * notices, operator announcements) into lines for the chat panel and the kill
 * feed. Names come from NetClient's roster, which has already applied the same
 * events.
 */
import type { NetClient } from '../../../netcode/client.ts';
import {
  EV_ANNOUNCE, EV_CHAT, EV_DROP, EV_JOIN, EV_KILL, EV_LEAVE, EV_NOTICE, EV_NPC_DOWN, EV_RESUME, EV_ROUND_END, EV_ROUND_START,
  type WireEvent,
} from '../../../netcode/protocol.ts';

export interface EventSink {
  chat: (from: number, name: string, text: string) => void;
  notice: (text: string) => void;
  /** An operator's announcement (every player of every instance gets it): not a player's chat. */
  announce: (text: string) => void;
  kill: (killer: string, victim: string, now: number) => void;
  feed: (text: string, now: number) => void;
  roundStarted: (round: number, now: number) => void;
}

export class Events {
  /** Names seen, so a player who has left the roster still has one in the feed. */
  private readonly names = new Map<number, string>();

  constructor(private readonly sink: EventSink, private readonly net: () => NetClient) {}

  name(id: number): string {
    const n = this.net().roster.get(id)?.name;
    if (n !== undefined) {
      if (this.names.get(id) !== n) this.names.set(id, n); // called per player per frame: write only on change
      return n;
    }
    return this.names.get(id) ?? `Player ${id}`;
  }

  welcome(resumed: boolean, _now: number): void {
    const n = this.net();
    this.sink.notice(resumed ? `Reconnected to room ${n.room}.` : `Joined room ${n.room} as ${this.name(n.playerId)}.`);
  }

  /** Handles one snapshot's events; returns true when a new round started (everyone moved). */
  snapshot(events: readonly WireEvent[], now: number): boolean {
    let roundStart = false;
    const me = this.net().playerId;
    for (const e of events) {
      const id = e[1] as number;
      switch (e[0]) {
        case EV_JOIN:
          this.names.set(id, String(e[2]));
          if (id !== me) this.sink.notice(`${String(e[2])} joined.`);
          break;
        case EV_LEAVE: this.sink.notice(`${this.name(id)} left.`); break;
        case EV_DROP: if (id !== me) this.sink.notice(`${this.name(id)} lost connection…`); break;
        case EV_RESUME: if (id !== me) this.sink.notice(`${this.name(id)} is back.`); break;
        case EV_CHAT: this.sink.chat(id, this.name(id), String(e[2])); break;
        case EV_NOTICE: this.sink.notice(String(e[1])); break;
        case EV_ANNOUNCE: this.sink.announce(String(e[1])); break;
        case EV_KILL: this.sink.kill(this.name(id), this.name(e[2] as number), now); break;
        case EV_NPC_DOWN: if (id === me) this.sink.feed('Drone down +1', now); break;
        case EV_ROUND_END: this.sink.notice(`Round ${String(e[2])} won by ${id ? this.name(id) : 'nobody'}.`); break;
        case EV_ROUND_START:
          roundStart = true;
          this.sink.roundStarted(id, now);
          break;
      }
    }
    return roundStart;
  }
}

/** What the client knew of its room before a WELCOME: the instance that held it, the newest tick seen. */
export interface RoomSeen {
  instance: string;
  tick: number;
}

/**
 * A WELCOME that did not resume the seat we had: what happened, in words for
 * the chat. A room that lived on (our seat lapsed while we were away) keeps its
 * instance and its tick count; a room opened anew (its instance died and
 * another took the code, or the server restarted) is elsewhere or counts its
 * ticks from 0 again. Either way our score is gone.
 */
export function lostSeat(before: RoomSeen, instance: string, serverTick: number): { restarted: boolean; text: string } {
  if (instance !== before.instance) return { restarted: true, text: 'The room was restarted on another server: scores start over.' };
  if (serverTick < before.tick) return { restarted: true, text: 'The room was restarted: scores start over.' };
  return { restarted: false, text: 'You were away too long and lost your seat: you are back as a new player.' };
}
