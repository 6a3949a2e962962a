/**
 * Who this tab is. The name is remembered across visits (localStorage); the
 * session token is kept per tab (sessionStorage), so a reload resumes the same
 * seat while a second tab is a second player.
 */

const NAME_KEY = 'tickwire.name';
const TOKEN_KEY = 'tickwire.session';

export interface StoredSession {
  token: string;
  name: string;
  /** The room this tab last joined: its seat may still be held for us (resume). */
  room?: string;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback; // storage disabled (privacy mode, sandboxed iframe)
  }
}

export const loadName = (): string => safe(() => localStorage.getItem(NAME_KEY) ?? '', '');
export const saveName = (name: string): void => safe(() => localStorage.setItem(NAME_KEY, name), undefined);

export function loadSession(): StoredSession | null {
  return safe(() => {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof v.token !== 'string' || typeof v.name !== 'string') return null;
    return typeof v.room === 'string' ? { token: v.token, name: v.name, room: v.room } : { token: v.token, name: v.name };
  }, null);
}

export const saveSession = (s: StoredSession): void => safe(() => sessionStorage.setItem(TOKEN_KEY, JSON.stringify(s)), undefined);
export const clearSession = (): void => safe(() => sessionStorage.removeItem(TOKEN_KEY), undefined);
