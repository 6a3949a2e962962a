/**
 * Where a match's next socket attempt goes. In a cluster the room lives on one
 * instance; any other answers a join with REDIRECT (the owner's WebSocket
 * endpoint), and the next attempt goes straight there. When there is no target
 * the attempt goes to the page's own `/ws`, which behind the load balancer
 * reaches some live instance, and that one redirects again if it must.
 *
 * Invariant: a target outlives at most one failure. A live (welcomed) connection
 * that drops keeps it for the next attempt (the owner most likely restarts or
 * the network blinked); any attempt that fails before a WELCOME forgets it, so
 * a dead or unreachable instance is never retried past that. The exception: a
 * redirect the socket will not follow at once (too many in a row, see
 * MAX_REDIRECTS in netcode/socket.ts) fails with CLOSE_REDIRECT, and the retry
 * after the backoff still goes where that REDIRECT said.
 */
import { CLOSE_REDIRECT } from '../../../netcode/protocol.ts';
import type { SocketState } from '../../../netcode/socket.ts';

export class Target {
  /** The endpoint of the next attempt (ws:// or wss://, no query), or null for the page's own /ws. */
  url: string | null;
  /** REDIRECTs followed in this match. */
  redirects = 0;

  constructor(initial: string | null = null) {
    this.url = initial;
  }

  /** The server said the room lives at `url`. */
  redirect(url: string): void {
    this.url = url;
    this.redirects++;
  }

  /**
   * The socket went `from` → `to` (`code`: the close code, if any); `welcomed` =
   * a WELCOME had arrived on it. A redirect followed at once goes open →
   * connecting, which is not a failure: the target stays.
   */
  state(from: SocketState, to: SocketState, welcomed: boolean, code?: number): void {
    if (to !== 'reconnecting' && to !== 'offline') return;
    if ((from === 'open' && welcomed) || code === CLOSE_REDIRECT) return;
    this.url = null;
  }
}

/** An instance id as the server accepts it (INSTANCE_ID in server/config.ts, which the client may not import). */
export const INSTANCE_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * The instance that `?instance=b` in the page's query (read before the `#`, like
 * `?lag=`) pins a match's first connection to, or null when absent or not an id.
 * For operators and tests that want one instance behind the load balancer; the
 * instance still redirects when the room lives elsewhere.
 */
export function instanceFromQuery(search: string): string | null {
  const id = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search).get('instance');
  return id !== null && INSTANCE_ID.test(id) ? id : null;
}

/** The WebSocket endpoint of instance `id` through the load balancer on the page's host (nginx's /i/<id>/ prefix). */
export function instanceEndpoint(loc: { protocol: string; host: string }, id: string): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/i/${id}/ws`;
}

/**
 * The endpoint to open, or null when `url` cannot be used from this page: not a
 * WebSocket URL, or ws:// from an https page (the browser refuses mixed content).
 * Any query or fragment is dropped: the caller appends room and token.
 */
export function usableEndpoint(url: string, pageProtocol: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return null;
  if (pageProtocol === 'https:' && u.protocol === 'ws:') return null;
  u.search = '';
  u.hash = '';
  return u.href;
}
