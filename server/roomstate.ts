/**
 * The saved form of rooms: what a restart (the STATE_FILE) or a hand-over to another
 * instance carries so that players come back to their seats and scores. One msgpack
 * document, versioned: `{ magic, version, savedAt, tickRate, rooms }`.
 *
 * Version 2, each room (version 1 had no `chat`):
 *   code    the room code (5 letters)
 *   world   the whole simulation state (game/sim/persist.ts checks it)
 *   seats   [{ sid, name, playerId, lastSeq }] one per player in the world: the session
 *           that may resume it, and the last input sequence applied for it (the client's
 *           reconciliation continues from there)
 *   banned  sessions an operator kicked, still refused after the move
 *   chat    [[playerId, text], …] chat said after the world's last tick: the new owner
 *           sends it with its first snapshot (every player's chat pane shows it)
 *
 * Read back like a message from outside: a file that is not ours, is truncated, comes
 * from a newer version, or breaks an invariant is refused with one line saying what
 * (RoomStateError), never half-loaded.
 */
import { decode, encode } from '@msgpack/msgpack';
import { parseWorld, WorldFormatError } from '../game/sim/persist.ts';
import type { World } from '../game/sim/state.ts';
import { LIMITS, ROOM_CODE } from '../netcode/protocol.ts';

export const ROOM_STATE_MAGIC = 'tickwire-rooms';
export const ROOM_STATE_VERSION = 2;

export interface SeatState {
  sid: string;
  name: string;
  playerId: number;
  lastSeq: number;
}

export type ChatLine = [playerId: number, text: string];

export interface RoomState {
  code: string;
  world: World;
  seats: SeatState[];
  banned: string[];
  chat: ChatLine[];
}

export interface SavedRooms {
  /** Wall-clock ms when saved (a restore can tell how long the rooms were away). */
  savedAt: number;
  /** The tick rate the rooms ran at: their tick numbers mean time only at that rate. */
  tickRate: number;
  rooms: RoomState[];
}

export class RoomStateError extends Error {}

const MAX_ROOMS = 100_000;
const MAX_SID = 128;
const MAX_SEQ = 2 ** 32;

export function encodeSavedRooms(s: SavedRooms): Uint8Array {
  return encode({ magic: ROOM_STATE_MAGIC, version: ROOM_STATE_VERSION, savedAt: s.savedAt, tickRate: s.tickRate, rooms: s.rooms });
}

/** The rooms in `bytes`, every field checked; throws RoomStateError with the reason. */
export function decodeSavedRooms(bytes: Uint8Array): SavedRooms {
  let doc: unknown;
  try {
    doc = decode(bytes);
  } catch (err) {
    throw new RoomStateError(`not a readable room file (truncated or corrupt): ${(err as Error).message}`);
  }
  const o = doc as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || o.magic !== ROOM_STATE_MAGIC) throw new RoomStateError('not a tickwire room file');
  if (typeof o.version !== 'number' || !Number.isInteger(o.version) || o.version < 1) {
    throw new RoomStateError(`room file version ${JSON.stringify(o.version)} is not valid`);
  }
  if (o.version > ROOM_STATE_VERSION) {
    throw new RoomStateError(`room file version ${o.version} is newer than this server reads (${ROOM_STATE_VERSION})`);
  }
  const savedAt = o.savedAt;
  if (typeof savedAt !== 'number' || !Number.isFinite(savedAt) || savedAt < 0) throw new RoomStateError('savedAt: expected a wall-clock time in ms');
  const tickRate = o.tickRate;
  if (typeof tickRate !== 'number' || !Number.isInteger(tickRate) || tickRate < 1 || tickRate > 1000) throw new RoomStateError('tickRate: expected an integer tick rate');
  if (!Array.isArray(o.rooms) || o.rooms.length > MAX_ROOMS) throw new RoomStateError(`rooms: expected an array of at most ${MAX_ROOMS}`);
  const codes = new Set<string>();
  const rooms = o.rooms.map((r, i) => {
    const room = parseRoom(r, `rooms[${i}]`, o.version as number);
    if (codes.has(room.code)) throw new RoomStateError(`rooms[${i}].code: room ${room.code} appears twice`);
    codes.add(room.code);
    return room;
  });
  return { savedAt, tickRate, rooms };
}

function parseRoom(v: unknown, path: string, version: number): RoomState {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RoomStateError(`${path}: expected an object`);
  const o = v as Record<string, unknown>;
  if (typeof o.code !== 'string' || !ROOM_CODE.test(o.code)) throw new RoomStateError(`${path}.code: expected 5 capital letters`);
  let world: World;
  try {
    world = parseWorld(o.world, `${path}.world`);
  } catch (err) {
    if (err instanceof WorldFormatError) throw new RoomStateError(err.message);
    throw err;
  }
  if (!Array.isArray(o.seats)) throw new RoomStateError(`${path}.seats: expected an array`);
  const players = new Set(world.players.map((p) => p.id));
  const sids = new Set<string>();
  const seated = new Set<number>();
  const seats = o.seats.map((s, i) => {
    const at = `${path}.seats[${i}]`;
    const seat = parseSeat(s, at);
    if (!players.has(seat.playerId)) throw new RoomStateError(`${at}.playerId: no player ${seat.playerId} in the world`);
    if (sids.has(seat.sid) || seated.has(seat.playerId)) throw new RoomStateError(`${at}: a second seat for the same session or player`);
    sids.add(seat.sid);
    seated.add(seat.playerId);
    return seat;
  });
  for (const id of players) if (!seated.has(id)) throw new RoomStateError(`${path}.seats: player ${id} of the world has no seat`);
  if (!Array.isArray(o.banned) || o.banned.some((b) => typeof b !== 'string' || b.length === 0 || b.length > MAX_SID)) {
    throw new RoomStateError(`${path}.banned: expected an array of session ids`);
  }
  const chat = version >= 2 ? parseChat(o.chat, `${path}.chat`, players) : [];
  return { code: o.code, world, seats, banned: [...(o.banned as string[])], chat };
}

const MAX_CHAT_LINES = 256;

function parseChat(v: unknown, path: string, players: ReadonlySet<number>): ChatLine[] {
  if (!Array.isArray(v) || v.length > MAX_CHAT_LINES) throw new RoomStateError(`${path}: expected an array of at most ${MAX_CHAT_LINES} lines`);
  return v.map((c, i) => {
    if (!Array.isArray(c) || c.length !== 2 || !players.has(c[0]) || typeof c[1] !== 'string' || [...c[1]].length > LIMITS.maxChatLength) {
      throw new RoomStateError(`${path}[${i}]: expected [playerId of the world, text of at most ${LIMITS.maxChatLength} characters]`);
    }
    return [c[0], c[1]] as ChatLine;
  });
}

function parseSeat(v: unknown, path: string): SeatState {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RoomStateError(`${path}: expected an object`);
  const o = v as Record<string, unknown>;
  if (typeof o.sid !== 'string' || o.sid.length === 0 || o.sid.length > MAX_SID) throw new RoomStateError(`${path}.sid: expected a session id`);
  if (typeof o.name !== 'string' || [...o.name].length > LIMITS.maxNameLength) {
    throw new RoomStateError(`${path}.name: expected a name of at most ${LIMITS.maxNameLength} characters`);
  }
  const int = (key: string, max: number): number => {
    const n = o[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw new RoomStateError(`${path}.${key}: expected an integer in [0, ${max}]`);
    return n;
  };
  const playerId = int('playerId', 2 ** 31);
  if (playerId === 0) throw new RoomStateError(`${path}.playerId: a seat holds a player`);
  return { sid: o.sid, name: o.name, playerId, lastSeq: int('lastSeq', MAX_SEQ) };
}
