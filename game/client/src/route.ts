/**
 * Hash routes: `#/r/ABCDE` opens the name prompt for room ABCDE, `#/r/ABCDE/watch`
 * watches it as a spectator, `#/replay/ID` opens the replay viewer on a recorded
 * match; anything else is the lobby. Share links are absolute URLs of that form, so
 * they survive chat apps and need no server-side routing.
 */
import { ROOM_CODE } from '../../../netcode/protocol.ts';
import { REPLAY_ID } from '../../../netcode/replay.ts';

export type Route =
  | { kind: 'lobby' }
  | { kind: 'room'; code: string }
  | { kind: 'watch'; code: string }
  | { kind: 'replay'; id: string };

export function parseRoute(hash: string): Route {
  const room = /^#\/r\/([A-Za-z]{5})(\/watch)?\/?$/.exec(hash);
  if (room) return { kind: room[2] ? 'watch' : 'room', code: room[1].toUpperCase() };
  const replay = /^#\/replay\/([^/?#]+)\/?$/.exec(hash);
  if (replay) {
    let id = '';
    try {
      id = decodeURIComponent(replay[1]);
    } catch {
      // a malformed %-escape: not an id
    }
    if (REPLAY_ID.test(id)) return { kind: 'replay', id };
  }
  return { kind: 'lobby' };
}

export const roomHash = (code: string): string => `#/r/${code}`;
export const watchHash = (code: string): string => `#/r/${code}/watch`;
export const replayHash = (id: string): string => `#/replay/${encodeURIComponent(id)}`;

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
