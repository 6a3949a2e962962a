/**
 * Per-address limits at the doors, checked before any room or session is touched:
 *
 *   sessions   POST /api/session             IP_SESSIONS_PER_MIN a minute (in a burst of as many)
 *   rooms      POST /api/rooms, and a join    IP_ROOMS_PER_MIN a minute
 *              that opens a room here
 *   upgrades   WebSocket upgrades             IP_UPGRADES_PER_S a second, in bursts of IP_MAX_SOCKETS
 *                                             (every player behind one NAT moving at once in a drain)
 *   sockets    WebSockets open at once        IP_MAX_SOCKETS
 *
 * Over a limit the caller answers `429 Too Many Requests` with `Retry-After` (whole
 * seconds). The address is the client's (X-Forwarded-For only from TRUSTED_PROXIES, see
 * proxy.ts); IPv6 addresses count by their /64, which one subscriber usually holds whole.
 * IP_LIMIT_EXEMPT lists addresses and blocks that are never limited (a load test's own).
 *
 * Each limit is GCRA (ratelimit.ts): one number per address, and only while the address
 * is limited: an entry whose bucket is full again is dropped when the table grows, so a
 * flood from many addresses costs a bounded table, never the tick. Limits are this
 * instance's: behind nginx's round robin an address gets up to N× the rate from N instances.
 */
import { isIP } from 'node:net';
import type { Config } from './config.ts';
import { AddressSet, normalizeAddress } from './proxy.ts';

export type LimitName = 'sessions' | 'rooms' | 'upgrades' | 'sockets';

export interface Refusal {
  limit: LimitName;
  /** Whole seconds until the caller may try again (Retry-After). */
  retryAfterS: number;
  reason: string;
}

/** What a refused caller is told (429 body, or the close reason of an upgrade already accepted). */
export const refusalText = (r: Refusal): string => `${r.reason}; try again in ${r.retryAfterS} s`;

/** Addresses tracked per limit before the table sheds the ones that are full again. */
const MAX_TRACKED = 50_000;
/** Retry-After for a caller at IP_MAX_SOCKETS: its sockets close on their own schedule. */
const SOCKETS_RETRY_S = 5;

/** GCRA per address: `tat` = when its bucket is full again (ms). */
class AddressRate {
  private readonly tat = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly toleranceMs: number;

  constructor(perS: number, burst: number) {
    this.intervalMs = 1000 / perS;
    this.toleranceMs = (burst - 1) * this.intervalMs;
  }

  /** 0 when taken; otherwise ms until one is earned back. */
  take(key: string, now: number): number {
    const held = this.tat.get(key);
    const tat = held !== undefined && held > now ? held : now;
    const ahead = tat - now - this.toleranceMs;
    if (ahead > 1e-6) return ahead;
    this.tat.set(key, tat + this.intervalMs);
    if (this.tat.size > MAX_TRACKED) this.shed(now);
    return 0;
  }

  /** Drops addresses whose bucket is full again; if the flood is wider still, the oldest entries. */
  private shed(now: number): void {
    for (const [k, t] of this.tat) if (t <= now) this.tat.delete(k);
    const excess = this.tat.size - Math.floor(MAX_TRACKED * 0.9);
    if (excess <= 0) return;
    let n = 0;
    for (const k of this.tat.keys()) {
      if (n++ >= excess) break;
      this.tat.delete(k);
    }
  }

  get tracked(): number {
    return this.tat.size;
  }
}

/** The key an address counts under: itself (IPv4), or its /64 (IPv6). */
export function limitKey(address: string): string {
  const a = normalizeAddress(address);
  if (isIP(a) !== 6) return a;
  const [head, tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const full = a.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${full.slice(0, 4).map((h) => Number.parseInt(h || '0', 16).toString(16)).join(':')}::/64`;
}

export class IpLimits {
  /** Refusals by limit since start (tickwire_ip_limited_total). */
  readonly refused: Record<LimitName, number> = { sessions: 0, rooms: 0, upgrades: 0, sockets: 0 };
  private readonly exempt: AddressSet;
  private readonly sessions: AddressRate;
  private readonly rooms: AddressRate;
  private readonly upgrades: AddressRate;
  private readonly open = new Map<string, number>();

  constructor(private readonly cfg: Config) {
    this.exempt = new AddressSet(cfg.ipLimitExempt);
    this.sessions = new AddressRate(cfg.ipSessionsPerMin / 60, cfg.ipSessionsPerMin);
    this.rooms = new AddressRate(cfg.ipRoomsPerMin / 60, cfg.ipRoomsPerMin);
    this.upgrades = new AddressRate(cfg.ipUpgradesPerS, Math.max(cfg.ipMaxSockets, cfg.ipUpgradesPerS));
  }

  /** A new session (token) for `address` at `now` (ms); null when allowed. */
  session(address: string, now: number): Refusal | null {
    return this.rate('sessions', this.sessions, address, now, `more than ${this.cfg.ipSessionsPerMin} new sessions a minute from your address`);
  }

  /** A new room opened for `address`. */
  room(address: string, now: number): Refusal | null {
    return this.rate('rooms', this.rooms, address, now, `more than ${this.cfg.ipRoomsPerMin} new rooms a minute from your address`);
  }

  /** A WebSocket upgrade from `address`: its rate, and the sockets it holds open. */
  upgrade(address: string, now: number): Refusal | null {
    if (this.exempt.has(address)) return null;
    const key = limitKey(address);
    if ((this.open.get(key) ?? 0) >= this.cfg.ipMaxSockets) {
      this.refused.sockets++;
      return { limit: 'sockets', retryAfterS: SOCKETS_RETRY_S, reason: `more than ${this.cfg.ipMaxSockets} connections at once from your address` };
    }
    return this.rate('upgrades', this.upgrades, address, now, `more than ${this.cfg.ipUpgradesPerS} connections a second from your address`);
  }

  /** A socket from `address` opened / closed (pair every opened with one closed). */
  opened(address: string): void {
    const key = limitKey(address);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
  }

  closed(address: string): void {
    const key = limitKey(address);
    const n = (this.open.get(key) ?? 0) - 1;
    if (n > 0) this.open.set(key, n);
    else this.open.delete(key);
  }

  /** Addresses in the tables (bounded), for tests and /metrics. */
  get tracked(): number {
    return this.sessions.tracked + this.rooms.tracked + this.upgrades.tracked + this.open.size;
  }

  private rate(limit: LimitName, rule: AddressRate, address: string, now: number, reason: string): Refusal | null {
    if (this.exempt.has(address)) return null;
    const wait = rule.take(limitKey(address), now);
    if (wait === 0) return null;
    this.refused[limit]++;
    return { limit, retryAfterS: Math.max(1, Math.ceil(wait / 1000)), reason };
  }
}
