/**
 * Whose request is this? Behind nginx every peer is the proxy; the player's address
 * is in X-Forwarded-For, which anybody can also write. So the header is believed only
 * when the peer is a proxy we run (TRUSTED_PROXIES), and only as far back as the
 * chain stays within trusted proxies: the client is the rightmost address that is
 * not one of ours (each proxy appends the address it saw).
 */
import { BlockList, isIP } from 'node:net';

/** uWS writes an IPv4 peer of a dual-stack socket as an IPv4-mapped IPv6 address. */
export function normalizeAddress(raw: string): string {
  let a = raw.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = /^(?:0{1,4}:){5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(a) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(a);
  if (mapped) {
    const hi = Number.parseInt(mapped[1], 16);
    const lo = Number.parseInt(mapped[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return dotted ? dotted[1] : a;
}

/** Addresses and CIDR blocks (TRUSTED_PROXIES, IP_LIMIT_EXEMPT); `has` takes any form uWS writes. */
export class AddressSet {
  private readonly list = new BlockList();
  readonly size: number;

  /** `entries`: addresses and CIDR blocks (validated by config.ts). */
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const [ip, bits] = e.split('/');
      const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(ip, type);
      else this.list.addSubnet(ip, Number(bits), type);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const a = normalizeAddress(address);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }
}

export class TrustedProxies {
  private readonly set: AddressSet;

  constructor(entries: readonly string[]) {
    this.set = new AddressSet(entries);
  }

  get size(): number {
    return this.set.size;
  }

  trusts(address: string): boolean {
    return this.set.has(address);
  }

  /** The client's address for a request from `peer` carrying `forwardedFor` (the X-Forwarded-For header, '' if none). */
  clientAddress(peer: string, forwardedFor: string): string {
    const from = normalizeAddress(peer);
    if (!forwardedFor || !this.trusts(from)) return from;
    const hops = forwardedFor.split(',');
    let client = from;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]);
      if (isIP(hop) === 0) break; // garbage: stop at the last address a trusted proxy vouched for
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}
