/**
 * How an SseSocket's failures read as a WebSocket's would: the close code an HTTP refusal
 * maps to, the one-line close reason made from a body, and the `onerror` event it reports.
 *
 * A refusal before the stream opens is an HTTP status, which a WebSocket's close never shows;
 * it is mapped to a close code so ReconnectingSocket's FINAL_CLOSE_CODES rule applies as is:
 *   401 bad token, 403 origin refused, 400 bad request → CLOSE_BAD_MESSAGE (final: the request
 *       itself is refused; retrying the same token/origin cannot help)
 *   404 no such room to watch / no SSE route → CLOSE_ROOM_CLOSED (final)
 *   409 room full → CLOSE_ROOM_FULL (final, as over the WebSocket)
 *   429 per-address limit, 503 → CLOSE_TRY_AGAIN 1013 (not final; `retryAfterMs` holds Retry-After)
 *   any other → 1006 (not final)
 */
import { CLOSE_BAD_MESSAGE, CLOSE_ROOM_CLOSED, CLOSE_ROOM_FULL, CLOSE_TRY_AGAIN } from './protocol.ts';

/** What an SseSocket's `onerror` receives. */
export interface SseRefusal {
  type: 'error';
  /** HTTP status of a refusal before the stream opened; 0 for a network or protocol error. */
  status: number;
  message: string;
}

/** The close a broken stream or a refused request reports, as a WebSocket's abnormal closure. */
export const CLOSE_ABNORMAL = 1006;
const MAX_REASON = 123; // bytes a WebSocket close reason may hold; kept alike so callers see the same lengths

/** The close code a refusal's HTTP status maps to (see the header). */
export function closeCodeForStatus(status: number): number {
  if (status === 400 || status === 401 || status === 403) return CLOSE_BAD_MESSAGE;
  if (status === 404) return CLOSE_ROOM_CLOSED;
  if (status === 409) return CLOSE_ROOM_FULL;
  if (status === 429 || status === 503) return CLOSE_TRY_AGAIN;
  return CLOSE_ABNORMAL;
}

/** An error's message, with its cause's (fetch hides the network error in `cause`). */
export const errText = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
};

/** One line of at most MAX_REASON characters: a close reason, from a body that may be JSON or long text. */
export function reasonText(s: string): string {
  let t = s;
  if (t.startsWith('{')) {
    try {
      const j = JSON.parse(t) as { error?: unknown; reason?: unknown; message?: unknown };
      const r = j.reason ?? j.error ?? j.message;
      if (typeof r === 'string') t = r;
    } catch {
      // not JSON after all: the text as it is
    }
  }
  t = t.replace(/\s+/g, ' ');
  return t.length > MAX_REASON ? `${t.slice(0, MAX_REASON - 1)}…` : t;
}
