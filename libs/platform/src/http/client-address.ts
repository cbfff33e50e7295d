import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TrustProxy } from '@app/config';
import { ipv6Groups } from '@app/core';

/** An address as the relay compares it: trimmed, lower case, an IPv4-mapped IPv6 address unwrapped. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim().toLowerCase();
  if (isIP(trimmed) !== 6) return trimmed;
  const g = ipv6Groups(trimmed) as number[];
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
  }
  return trimmed;
}

/**
 * The key a per-client limit counts under: an IPv4 address as it is, an IPv6 address by its /64 (one subscriber
 * usually holds a whole /64, so counting single IPv6 addresses would let one client rotate through 2^64 of them).
 * Anything else (not an address) is returned as it is; the limiter hashes every key.
 */
export function addressKey(address: string): string {
  const normalized = normalizeAddress(address);
  if (isIP(normalized) !== 6) return normalized;
  const groups = (ipv6Groups(normalized) as number[]).slice(0, 4);
  return `${groups.map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * The `X-Forwarded-For` entries, rightmost first. The same parse as Express's (`forwarded`): comma-separated,
 * spaces around entries ignored, empty entries skipped; several headers arrive joined by Node.
 */
export function forwardedFor(req: IncomingMessage): string[] {
  const header = req.headers['x-forwarded-for'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const list: string[] = [];
  let end = text.length;
  let start = text.length;
  for (let i = text.length - 1; i >= 0; i--) {
    switch (text.charCodeAt(i)) {
      case 0x20:
        if (start === end) start = end = i;
        break;
      case 0x2c:
        if (start !== end) list.push(text.substring(start, end));
        start = end = i;
        break;
      default:
        start = i;
    }
  }
  if (start !== end) list.push(text.substring(start, end));
  return list;
}

const blockLists = new WeakMap<object, BlockList>();

function blockListOf(trust: TrustProxy & { kind: 'networks' }): BlockList {
  let list = blockLists.get(trust);
  if (!list) {
    list = new BlockList();
    for (const n of trust.networks) list.addSubnet(n.address, n.prefix, n.family);
    blockLists.set(trust, list);
  }
  return list;
}

/**
 * Whether the address at position `hop` (0 = the socket's peer, 1 = the rightmost `X-Forwarded-For` entry, …) is a
 * proxy the relay trusts. This is the one rule: `clientAddress` walks with it and Express's `trust proxy` is set
 * to it, so `req.ip` and `clientAddress` name the same client.
 */
export function trustsProxy(trust: TrustProxy): (address: string, hop: number) => boolean {
  switch (trust.kind) {
    case 'none':
      return () => false;
    case 'hops':
      return (_address, hop) => hop < trust.hops;
    case 'networks': {
      const list = blockListOf(trust);
      return (address) => {
        const normalized = normalizeAddress(address);
        const version = isIP(normalized);
        return version !== 0 && list.check(normalized, version === 4 ? 'ipv4' : 'ipv6');
      };
    }
  }
}

/**
 * The client's address: walking from the socket's peer leftwards through `X-Forwarded-For`, the first address that
 * is not a trusted proxy (the leftmost one if all are). With `TRUST_PROXY=false` the header is never read.
 * IPv4-mapped IPv6 addresses come back as IPv4.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  const socket = req.socket?.remoteAddress ?? 'unknown';
  if (trust.kind === 'none') return normalizeAddress(socket);
  const trusted = trustsProxy(trust);
  const chain = [socket, ...forwardedFor(req)];
  let hop = 0;
  while (hop < chain.length - 1 && trusted(chain[hop], hop)) hop++;
  return normalizeAddress(chain[hop]);
}

/** The value for Express's `app.set('trust proxy', …)` that makes `req.ip` agree with `clientAddress`. */
export function expressTrustProxy(trust: TrustProxy): boolean | ((address: string, hop: number) => boolean) {
  return trust.kind === 'none' ? false : trustsProxy(trust);
}
