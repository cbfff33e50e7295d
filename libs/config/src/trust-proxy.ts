import { isIP } from 'node:net';

/** One trusted proxy network: an address with its prefix length (a single address is /32 or /128). */
export interface ProxyNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Which peers may tell the relay who the client is (`TRUST_PROXY`). The client address is the first address not
 * trusted, counted from the right of `X-Forwarded-For` plus the socket's address:
 * - `none`: `X-Forwarded-For` is ignored, the client is the socket's peer;
 * - `hops`: the `hops` rightmost addresses (the socket's peer first) are proxies;
 * - `networks`: an address inside one of the networks is a proxy.
 */
export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'networks'; readonly networks: readonly ProxyNetwork[] };

export const TRUST_NO_PROXY: TrustProxy = Object.freeze({ kind: 'none' });

/** Names Express's `trust proxy` accepts, kept for operators who know them. */
const NAMED_NETWORKS: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const MAX_HOPS = 32;

/** One entry of the list (`10.0.0.0/8`, `::1`, `[fd00::]/8`), or the reason it is not one. */
export function parseProxyNetwork(entry: string): ProxyNetwork | string {
  const match = /^\[?([^\]/]+)\]?(?:\/(\d{1,3}))?$/.exec(entry);
  if (!match) return `"${entry}" is not an address or CIDR`;
  let address = match[1].toLowerCase();
  const version = isIP(address);
  if (version === 0) return `"${entry}" is not an IP address or CIDR`;
  let family: ProxyNetwork['family'] = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  let prefix = match[2] === undefined ? max : Number(match[2]);
  if (prefix > max) return `"${entry}" has a prefix longer than ${max}`;
  // An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network: client addresses are compared unwrapped.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped && prefix >= 96) {
    address = mapped[1];
    family = 'ipv4';
    prefix -= 96;
  }
  return { address, prefix, family };
}

/**
 * `TRUST_PROXY`: `false` (default; also `0`, `no`, `off`), a hop count (`1`, `2`, …), or a comma-separated list of
 * proxy addresses and CIDRs (`10.0.0.0/8,172.16.0.0/12,::1`; Express's names `loopback`, `linklocal` and
 * `uniquelocal` too). `true` (also `yes`, `on`) is kept for older configurations and means one hop: the socket's
 * peer is the proxy and the rightmost `X-Forwarded-For` entry is the client — never "believe the whole header".
 * Returns the value and one problem per bad entry.
 */
export function parseTrustProxy(
  name: string,
  raw: string | undefined,
): { value: TrustProxy; problems: string[] } {
  const value = raw?.trim() ?? '';
  const lower = value.toLowerCase();
  if (value === '' || ['false', '0', 'no', 'off'].includes(lower))
    return { value: TRUST_NO_PROXY, problems: [] };
  if (['true', 'yes', 'on'].includes(lower)) return { value: { kind: 'hops', hops: 1 }, problems: [] };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) {
      return {
        value: TRUST_NO_PROXY,
        problems: [`${name} hop count must be between 0 and ${MAX_HOPS}, got ${hops}`],
      };
    }
    return { value: hops === 0 ? TRUST_NO_PROXY : { kind: 'hops', hops }, problems: [] };
  }
  const networks: ProxyNetwork[] = [];
  const problems: string[] = [];
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  for (const entry of entries) {
    const named = NAMED_NETWORKS[entry.toLowerCase()];
    for (const candidate of named ?? [entry]) {
      const network = parseProxyNetwork(candidate);
      if (typeof network === 'string') {
        problems.push(
          `${name}: ${network} (expected false, a hop count, or a comma-separated list of proxy addresses/CIDRs)`,
        );
      } else {
        networks.push(network);
      }
    }
  }
  if (entries.length === 0) problems.push(`${name} lists no proxy address`);
  if (problems.length > 0) return { value: TRUST_NO_PROXY, problems };
  return { value: { kind: 'networks', networks }, problems };
}

/** How a TrustProxy reads in a log line or the docs (`false`, `1 hop`, `10.0.0.0/8, ::1/128`). */
export function describeTrustProxy(trust: TrustProxy): string {
  switch (trust.kind) {
    case 'none':
      return 'false';
    case 'hops':
      return trust.hops === 1 ? '1 hop' : `${trust.hops} hops`;
    case 'networks':
      return trust.networks.map((n) => `${n.address}/${n.prefix}`).join(', ');
  }
}
