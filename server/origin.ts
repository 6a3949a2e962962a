/**
 * Origin allowlist for the WebSocket upgrade. With no ALLOWED_ORIGINS, a page
 * served by this server (Origin host = Host header) and localhost pages are
 * allowed. A request without Origin is not from a browser page (bots, CLI
 * tools) and is allowed: Origin protects browsers' users from foreign pages,
 * the token protects the server.
 */
export function originAllowed(origin: string, host: string, allowed: readonly string[]): boolean {
  if (origin === '') return true;
  if (allowed.length > 0) return allowed.includes('*') || allowed.includes(origin);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.host === host) return true;
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}
