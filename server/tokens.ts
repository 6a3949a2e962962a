/**
 * Guest session tokens: base64url(JSON {sid, name, exp}) "." base64url(HMAC-SHA256).
 * Checked in the WebSocket upgrade before a socket opens. `now` is passed in (s).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  sid: string;
  name: string;
  exp: number; // unix seconds
}

export type TokenCheck = { ok: true; session: Session } | { ok: false; reason: string };

const b64 = (buf: Buffer) => buf.toString('base64url');
const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest();

export function newSessionId(): string {
  return b64(randomBytes(12));
}

export function issueToken(secret: string, session: Session): string {
  const payload = b64(Buffer.from(JSON.stringify(session)));
  return `${payload}.${b64(sign(secret, payload))}`;
}

export function verifyToken(secret: string, token: string | undefined, nowS: number): TokenCheck {
  if (!token) return { ok: false, reason: 'missing token' };
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 1024) return { ok: false, reason: 'malformed token' };
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = sign(secret, payload);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'invalid token signature' };
  let session: Session;
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  if (typeof session?.sid !== 'string' || typeof session.name !== 'string' || typeof session.exp !== 'number') {
    return { ok: false, reason: 'malformed token' };
  }
  if (session.exp <= nowS) return { ok: false, reason: 'token expired' };
  return { ok: true, session };
}
