/**
 * Which transport a match's connection uses: the WebSocket (`ws`), or Server-Sent Events
 * down and POSTs up (`sse`, netcode/ssesocket.ts) for networks that refuse the upgrade.
 * The bytes are the same either way. A match starts on `ws` and falls back to `sse` by
 * itself (link.ts); `?transport=sse` in the page's query forces SSE from the start (for
 * tests, and for a player who knows the network), `?transport=ws` keeps the default.
 */

export type Transport = 'ws' | 'sse';

/** The transport `?transport=` in the page's query (read before the `#`, like `?lag=`) asks for, or null. */
export function transportFromQuery(search: string): Transport | null {
  const t = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search).get('transport');
  return t === 'ws' || t === 'sse' ? t : null;
}
