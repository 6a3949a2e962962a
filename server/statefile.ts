/**
 * STATE_FILE: a standalone server's rooms across a restart. Saved on SIGTERM / SIGINT
 * (written to a temporary file, flushed, then renamed over the old one, so a crash
 * mid-write leaves the previous file or none, never half a file), read at start-up and
 * removed once its rooms are back. A file that cannot be read back (truncated, foreign,
 * from a newer version, another tick rate) is reported in one line and set aside as
 * `<file>.bad-<time>` for an operator to look at; the server starts without it.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeSavedRooms, encodeSavedRooms, RoomStateError, type SavedRooms } from './roomstate.ts';

export function saveStateFile(path: string, saved: SavedRooms): number {
  const bytes = encodeSavedRooms(saved);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return bytes.length;
}

export type StateFileRead =
  | { kind: 'none' }
  | { kind: 'loaded'; saved: SavedRooms }
  | { kind: 'set-aside'; reason: string; movedTo: string };

/** The saved rooms at `path` for a server at `tickRate`; the file is consumed (removed, or set aside when unreadable). */
export function takeStateFile(path: string, tickRate: number, wallMs: number): StateFileRead {
  if (!existsSync(path)) return { kind: 'none' };
  let saved: SavedRooms;
  try {
    saved = decodeSavedRooms(readFileSync(path));
    if (saved.tickRate !== tickRate) {
      throw new RoomStateError(`saved at ${saved.tickRate} Hz, this server runs at ${tickRate} Hz (TICK_RATE)`);
    }
  } catch (err) {
    if (!(err instanceof RoomStateError)) throw err;
    const movedTo = `${path}.bad-${new Date(wallMs).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(path, movedTo);
    return { kind: 'set-aside', reason: err.message, movedTo };
  }
  unlinkSync(path);
  return { kind: 'loaded', saved };
}
