import { describe, expect, it } from 'vitest';
import { issueToken, verifyToken } from '../server/tokens.ts';

const secret = 'test-secret';
const session = { sid: 's1', name: 'Ada', exp: 1000 };

describe('session tokens', () => {
  it('verify what was issued until it expires', () => {
    const t = issueToken(secret, session);
    expect(verifyToken(secret, t, 999)).toEqual({ ok: true, session });
    expect(verifyToken(secret, t, 1000)).toEqual({ ok: false, reason: 'token expired' });
  });

  it('reject a missing, malformed or forged token', () => {
    const t = issueToken(secret, session);
    expect(verifyToken(secret, undefined, 0)).toEqual({ ok: false, reason: 'missing token' });
    expect(verifyToken(secret, 'nodot', 0)).toEqual({ ok: false, reason: 'malformed token' });
    expect(verifyToken('other-secret', t, 0)).toEqual({ ok: false, reason: 'invalid token signature' });
    // A payload rewritten to another name keeps the old signature: refused.
    const forged = `${Buffer.from(JSON.stringify({ ...session, name: 'Root' })).toString('base64url')}.${t.split('.')[1]}`;
    expect(verifyToken(secret, forged, 0)).toEqual({ ok: false, reason: 'invalid token signature' });
  });
});
