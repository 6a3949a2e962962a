/**
 * The always-visible connection pill: connecting / connected / reconnecting in
 * N s / offline. `describe` is pure so window.tickwire and tests read the same
 * words the player sees.
 */
import {
  CLOSE_BAD_VERSION, CLOSE_KICKED, CLOSE_REPLACED, CLOSE_ROOM_CLOSED, CLOSE_ROOM_FULL, CLOSE_TOO_SLOW,
} from '../../../netcode/protocol.ts';
import type { SocketState } from '../../../netcode/socket.ts';
import { byId } from './dom.ts';

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

export interface ConnInfo {
  state: ConnState;
  text: string;
}

/**
 * What the player is told, from the socket's state, the welcome, and the retry time.
 * `moving`: the server said the room moved to another instance (MOVE) and the seat is on
 * its way there: a short reconnect, not an error. `closeCode`: why the last socket closed
 * (CLOSE_TOO_SLOW: the server dropped us for reading too slowly; the seat waits).
 */
export function describe(
  socket: SocketState, welcomed: boolean, retryAt: number | null, now: number, reason = '', moving = false, closeCode = 0,
): ConnInfo {
  if (moving && (socket === 'connecting' || (socket === 'open' && !welcomed))) {
    return { state: 'reconnecting', text: 'Server update: moving you to another server…' };
  }
  switch (socket) {
    case 'idle':
    case 'connecting':
      return { state: 'connecting', text: 'Connecting…' };
    case 'open':
      return welcomed ? { state: 'connected', text: 'Connected' } : { state: 'connecting', text: 'Joining…' };
    case 'reconnecting': {
      const s = retryAt === null ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));
      const when = s > 0 ? `econnecting in ${s} s…` : 'econnecting…';
      return { state: 'reconnecting', text: closeCode === CLOSE_TOO_SLOW ? `Connection too slow: r${when}` : `R${when}` };
    }
    case 'offline':
      return { state: 'offline', text: 'Offline: the server cannot be reached. Click to retry' };
    case 'closed':
      return { state: 'closed', text: reason ? `Disconnected: ${reason}` : 'Disconnected' };
  }
}

/** What the player is told when the server ends the match (FINAL_CLOSE_CODES). */
export function closeMessage(code: number, reason: string): string {
  const why = reason ? ` (${reason})` : '';
  switch (code) {
    case CLOSE_REPLACED: return 'This seat was opened in another tab or window, so this one was disconnected.';
    case CLOSE_BAD_VERSION: return `This page is out of date: reload it to play${why}.`;
    case CLOSE_ROOM_FULL: return `The room is full${why}.`;
    case CLOSE_ROOM_CLOSED: return `The room was closed${why}.`;
    case CLOSE_KICKED: return `You were removed from the room${why}.`;
    default: return `Disconnected${why || ` (code ${code})`}.`;
  }
}

export class StatusPill {
  private readonly el = byId('status');
  private key = '';
  private readonly listeners = new AbortController();

  /** `retry` runs when the player clicks the pill while offline. */
  constructor(retry: () => void) {
    this.el.addEventListener('click', () => { if (this.el.classList.contains('offline')) retry(); }, { signal: this.listeners.signal });
  }

  /** Stops retrying this match's session: the pill (index.html) is reused by the next match. */
  destroy(): void {
    this.listeners.abort();
    this.el.className = 'status connecting';
    this.el.textContent = 'Connecting…';
    this.key = '';
  }

  show(info: ConnInfo, extra = ''): void {
    const text = extra ? `${info.text} · ${extra}` : info.text;
    const key = `${info.state}|${text}`;
    if (key === this.key) return;
    this.key = key;
    this.el.className = `status ${info.state}`;
    this.el.textContent = text;
  }
}
