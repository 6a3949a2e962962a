/**
 * What crossed this process's player sockets (`/ws`), counted where it crosses: plain
 * numbers, one add per message and no allocation, read by /metrics (metrics.ts) when it
 * is scraped and by the monitor through the same registry. One per RoomManager.
 *
 *   bytesIn    payload of every WebSocket message a player's socket sent us (ws.ts `message`)
 *   bytesOut   payload handed to uWS for players: each `send` on a socket (ws.ts UwsLink and
 *              REDIRECT) and each room publish times the sockets subscribed to it (main.ts)
 *   refused    sockets told why (S_ERROR) and closed for what they sent or could not get, by
 *              close code (`refuse` in seating.ts; ws.ts's refusals of text frames and of floods
 *              before the room). A room an operator closes is counted apart (tickwire_rooms_closed_total)
 *   joins      HELLOs welcomed into a new seat; `resumes` into a seat kept from an earlier
 *              socket (a reconnect, a MOVE after a hand-over, a restart from STATE_FILE)
 *
 * WebSocket frame headers, HTTP and the monitor's own feed are not counted.
 */
import {
  CLOSE_BAD_MESSAGE, CLOSE_BAD_VERSION, CLOSE_KICKED, CLOSE_NO_HELLO, CLOSE_RATE_LIMIT, CLOSE_ROOM_FULL,
} from '../netcode/protocol.ts';

/** The label of each close code `refused` counts (metrics: `reason`). */
export const REFUSAL_NAMES: ReadonlyMap<number, string> = new Map([
  [CLOSE_BAD_MESSAGE, 'bad_message'], [CLOSE_RATE_LIMIT, 'rate_limit'], [CLOSE_NO_HELLO, 'no_hello'], [CLOSE_BAD_VERSION, 'bad_version'],
  [CLOSE_ROOM_FULL, 'room_full'], [CLOSE_KICKED, 'kicked'],
]);

export class WireStats {
  bytesIn = 0;
  bytesOut = 0;
  joins = 0;
  resumes = 0;
  /** By close code; every code of REFUSAL_NAMES is there from the start (a series at 0 before the first). */
  readonly refused = new Map<number, number>([...REFUSAL_NAMES.keys()].map((code) => [code, 0]));

  refuse(code: number): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  /** `refused` by label; a code without a name shows as `code_NNNN`. */
  refusedByName(): [reason: string, n: number][] {
    return [...this.refused].map(([code, n]) => [REFUSAL_NAMES.get(code) ?? `code_${code}`, n]);
  }
}
