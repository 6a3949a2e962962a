/**
 * Hash routes: `#/r/ABCDE` opens the name prompt for room ABCDE; anything else is
 * the lobby. Share links are absolute URLs of that form, so they survive chat
 * apps and need no server-side routing.
 */

export const ROOM_CODE = /^[A-Z]{5}$/;

export type Route = { kind: 'lobby' } | { kind: 'room'; code: string };

export function parseRoute(hash: string): Route {
  const m = /^#\/r\/([A-Za-z]{5})\/?$/.exec(hash);
  return m ? { kind: 'room', code: m[1].toUpperCase() } : { kind: 'lobby' };
}

export const roomHash = (code: string): string => `#/r/${code}`;

/** The link to share: origin + path (keeps any ?lag=… simulator query off it) + room hash. */
export function shareLink(loc: { origin: string; pathname: string }, code: string): string {
  return `${loc.origin}${loc.pathname}${roomHash(code)}`;
}

/** Normalises what a user typed or pasted (a code or a whole link) to a room code, or null. */
export function codeFrom(text: string): string | null {
  const t = text.trim();
  const fromLink = /#\/r\/([A-Za-z]{5})/.exec(t);
  const code = (fromLink ? fromLink[1] : t).toUpperCase();
  return ROOM_CODE.test(code) ? code : null;
}
