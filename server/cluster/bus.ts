/**
 * Messages between instances, over one Redis pub/sub channel. Rare by design (an
 * operator's announcement, a kick or a room closed and their answers): nothing per tick or per input
 * crosses it. JSON, because nothing here is hot and an operator can read it with
 * `redis-cli subscribe tw:bus`. Every message is validated on arrival like any
 * other input from outside the process; a bad one is dropped and counted.
 *
 *   announce  {v, type: 'announce', from, text}              every player of every instance sees it in chat
 *   kick      {v, type: 'kick', from, req, target, reason}   every instance kicks whoever matches
 *   kicked    {v, type: 'kicked', from, req, to, kicked}     each instance's answer to `to`'s kick `req`
 *   close     {v, type: 'close', from, req, room, reason}    every instance closes room `room` if it holds it
 *   closed    {v, type: 'closed', from, req, to, room, held, players}  each instance's answer to `to`'s close
 *                                                           `req`: whether it held the room, and how many
 *                                                           players it closed out
 *   handover  {v, type: 'handover', from, to, req, code, key}  `from` drains: the room `code` waits in
 *                                                           Redis under `key` for `to` to take it
 *   took      {v, type: 'took', from, to, req, code, ok, reason}  `from`'s answer: it owns and runs the
 *                                                           room now (ok), or why not
 *   late      {v, type: 'late', from, to, code, chat}        chat that reached the draining instance
 *                                                           while its room was on the way: [[playerId, text], …]
 */
import { LIMITS } from '../../netcode/protocol.ts';
import { cleanText } from '../../netcode/text.ts';

export const BUS_VERSION = 1;

/** Who to kick: a session (the `sid` of the player's token) anywhere, or a player id in one room. */
export type KickTarget = { sid: string } | { room: string; id: number };

export interface Kicked {
  instance: string;
  room: string;
  id: number;
  name: string;
}

/** A room an operator closed: where it was, and how many players were connected to it. */
export interface ClosedRoom {
  instance: string;
  room: string;
  players: number;
}

/** Chat lines at most one `late` message carries. */
export const MAX_LATE_CHAT = 64;

export type LateChat = [playerId: number, text: string];

export type BusMessage =
  | { v: number; type: 'announce'; from: string; text: string }
  | { v: number; type: 'handover'; from: string; to: string; req: string; code: string; key: string }
  | { v: number; type: 'took'; from: string; to: string; req: string; code: string; ok: boolean; reason: string }
  | { v: number; type: 'late'; from: string; to: string; code: string; chat: LateChat[] }
  | { v: number; type: 'kick'; from: string; req: string; target: KickTarget; reason: string }
  | { v: number; type: 'kicked'; from: string; req: string; to: string; kicked: Kicked[] }
  | { v: number; type: 'close'; from: string; req: string; room: string; reason: string }
  | { v: number; type: 'closed'; from: string; req: string; to: string; room: string; held: boolean; players: number };

/** The bus messages that answer a request (`req`) of the instance `to`. */
export type BusAnswer = Extract<BusMessage, { type: 'kicked' | 'closed' }>;

const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= LIMITS.maxTick;
export const isRoomCode = (v: unknown): v is string => typeof v === 'string' && /^[A-Z]{5}$/.test(v);

/** A kick target from outside (the admin API's JSON body, or the bus), or a reason it is not one. */
export function parseKickTarget(v: unknown): KickTarget | string {
  if (!v || typeof v !== 'object') return 'give {"player": SID} or {"room": "ABCDE", "id": N}';
  const o = v as Record<string, unknown>;
  if (o.player !== undefined || o.sid !== undefined) {
    const sid = o.player ?? o.sid;
    return isStr(sid, 64) ? { sid } : 'player must be a session id (the sid in the player\'s token)';
  }
  if (!isRoomCode(o.room)) return 'room must be 5 capital letters, e.g. "ABCDE"';
  if (!isId(o.id)) return 'id must be the player id (a positive integer)';
  return { room: o.room, id: o.id };
}

const isKicked = (k: unknown): k is Kicked => {
  const o = k as Record<string, unknown>;
  return !!o && typeof o === 'object' && isStr(o.instance, 32) && isRoomCode(o.room) && isId(o.id) && typeof o.name === 'string';
};

/** A bus message, or null for anything else (another version, a stranger on the channel). */
export function parseBus(raw: string): BusMessage | null {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!m || typeof m !== 'object' || m.v !== BUS_VERSION || !isStr(m.from, 32)) return null;
  switch (m.type) {
    case 'announce': {
      if (typeof m.text !== 'string') return null;
      const text = cleanText(m.text, LIMITS.maxAnnouncementLength);
      return text ? { v: BUS_VERSION, type: 'announce', from: m.from, text } : null;
    }
    case 'kick': {
      const target = parseKickTarget(m.target);
      if (typeof target === 'string' || !isStr(m.req, 64) || typeof m.reason !== 'string') return null;
      return { v: BUS_VERSION, type: 'kick', from: m.from, req: m.req, target, reason: cleanText(m.reason, 120) };
    }
    case 'kicked':
      if (!isStr(m.req, 64) || !isStr(m.to, 32) || !Array.isArray(m.kicked) || m.kicked.length > 1000 || !m.kicked.every(isKicked)) return null;
      return { v: BUS_VERSION, type: 'kicked', from: m.from, req: m.req, to: m.to, kicked: m.kicked };
    case 'close':
      if (!isStr(m.req, 64) || !isRoomCode(m.room) || typeof m.reason !== 'string') return null;
      return { v: BUS_VERSION, type: 'close', from: m.from, req: m.req, room: m.room, reason: cleanText(m.reason, 120) };
    case 'closed': {
      const players = m.players;
      if (!isStr(m.req, 64) || !isStr(m.to, 32) || !isRoomCode(m.room) || typeof m.held !== 'boolean') return null;
      if (typeof players !== 'number' || !Number.isInteger(players) || players < 0 || players > 100_000) return null;
      return { v: BUS_VERSION, type: 'closed', from: m.from, req: m.req, to: m.to, room: m.room, held: m.held, players };
    }
    case 'handover':
      if (!isStr(m.to, 32) || !isStr(m.req, 64) || !isRoomCode(m.code) || !isStr(m.key, 200) || !m.key.startsWith('tw:handover:')) return null;
      return { v: BUS_VERSION, type: 'handover', from: m.from, to: m.to, req: m.req, code: m.code, key: m.key };
    case 'took':
      if (!isStr(m.to, 32) || !isStr(m.req, 64) || !isRoomCode(m.code) || typeof m.ok !== 'boolean' || typeof m.reason !== 'string') return null;
      return { v: BUS_VERSION, type: 'took', from: m.from, to: m.to, req: m.req, code: m.code, ok: m.ok, reason: cleanText(m.reason, 300) };
    case 'late': {
      if (!isStr(m.to, 32) || !isRoomCode(m.code) || !Array.isArray(m.chat) || m.chat.length > MAX_LATE_CHAT) return null;
      const chat: LateChat[] = [];
      for (const c of m.chat) {
        if (!Array.isArray(c) || c.length !== 2 || !isId(c[0]) || typeof c[1] !== 'string') return null;
        const text = cleanText(c[1], LIMITS.maxChatLength);
        if (text) chat.push([c[0], text]);
      }
      return { v: BUS_VERSION, type: 'late', from: m.from, to: m.to, code: m.code, chat };
    }
    default:
      return null;
  }
}
