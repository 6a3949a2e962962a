/**
 * How the load test's clients (bots, the RTT probe, the join benchmark) follow a REDIRECT
 * (netcode/protocol.ts): at once, with the same room and token, to the endpoint it names,
 * as the browser does. Two rules of our own on top:
 *
 * - the target must pass wire.ts's loopback rule like --url did: a cluster whose
 *   PUBLIC_URLs name another host would otherwise send the swarm off this machine.
 *   Such a REDIRECT is an error, never followed;
 * - at most MAX_REDIRECTS in a row without a WELCOME: instances that disagree about a
 *   room's owner would bounce a client between them for ever.
 */
import { S_MOVE, S_REDIRECT } from '../netcode/protocol.ts';
import { loopbackTarget } from './wire.ts';

export const MAX_REDIRECTS = 5;

/** The join URL of an endpoint (a ws:// or wss:// URL without query). */
export const joinUrl = (endpoint: string, room: string, token: string): string =>
  `${endpoint}?room=${room}&token=${encodeURIComponent(token)}`;

/** `url` from a REDIRECT when it may be followed; throws with the reason when not (not loopback, a query). */
export function redirectTarget(url: string): string {
  loopbackTarget(url); // throws unless ws(s):// to 127.0.0.0/8, ::1 or localhost
  if (/[?#]/.test(url)) throw new Error(`redirect target ${url} has a query or fragment`);
  return url;
}

/**
 * A REDIRECT or a MOVE by its first two bytes (a msgpack fixarray of 4, then code 22 or 23). It
 * must be handled as it arrives, not queued behind a read burst: the server's close
 * (CLOSE_REDIRECT) follows it in the same read, and would otherwise look like a refused join
 * or a lost connection.
 */
export const isRedirect = (data: Uint8Array): boolean => data[0] === 0x94 && (data[1] === S_REDIRECT || data[1] === S_MOVE);
