/**
 * The checks codec.ts's decoders make on decoded msgpack values: the type and range
 * of each field, and the table of the fields each event kind carries (EV_* in
 * protocol.ts). Predicates only: they never throw and never copy.
 */
import {
  EV_ANNOUNCE, EV_CHAT, EV_DROP, EV_JOIN, EV_KILL, EV_LEAVE, EV_NOTICE, EV_NPC_DOWN, EV_RESUME, EV_ROSTER, EV_ROUND_END,
  EV_ROUND_START, EV_WATCHERS, LIMITS, type RosterEntry,
} from './protocol.ts';

export const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
export const isFiniteNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const isInstanceId = (v: unknown): v is string => typeof v === 'string' && v.length <= LIMITS.maxInstanceIdLength;

/** A REDIRECT or MOVE target: a ws:// or wss:// URL without query or fragment (the client adds room and token). */
export function isSocketUrl(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > LIMITS.maxUrlLength || !/^wss?:\/\/[^\s?#]+$/.test(v)) return false;
  try {
    return new URL(v).host !== '';
  } catch {
    return false;
  }
}

const isId = (v: unknown) => isUint(v, LIMITS.maxTick);
export const isStr = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;

/** Field checks of each event kind after its code (see EV_* in protocol.ts). */
const EVENT_FIELDS: Record<number, ((v: unknown) => boolean)[]> = {
  [EV_JOIN]: [isId, isStr],
  [EV_LEAVE]: [isId],
  [EV_DROP]: [isId],
  [EV_RESUME]: [isId],
  [EV_CHAT]: [isId, isStr],
  [EV_KILL]: [isId, isId],
  [EV_NPC_DOWN]: [isId, isId],
  [EV_ROUND_END]: [isId, isId],
  [EV_ROUND_START]: [isId],
  [EV_ROSTER]: [(v) => isRoster(v)],
  [EV_NOTICE]: [isStr],
  [EV_ANNOUNCE]: [isStr],
  [EV_WATCHERS]: [isId],
};

export function isEvent(e: unknown): boolean {
  if (!Array.isArray(e)) return false;
  const fields = EVENT_FIELDS[e[0] as number];
  return fields !== undefined && e.length === fields.length + 1 && fields.every((ok, i) => ok(e[i + 1]));
}

export const isRoster = (v: unknown): v is RosterEntry[] =>
  Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 3 && isUint(e[0], LIMITS.maxTick)
    && typeof e[1] === 'string' && (e[2] === 0 || e[2] === 1));
