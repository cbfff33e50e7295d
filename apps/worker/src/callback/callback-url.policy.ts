import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export class CallbackRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CallbackRefusedError';
  }
}

/** Addresses a callback must never reach unless its host is listed literally. */
function nonPublicRanges(): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    list.addSubnet(net, prefix, 'ipv4');
  }
  for (const [net, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['2001:db8::', 32],
    ['64:ff9b::', 96],
    ['100::', 64],
  ] as const) {
    list.addSubnet(net, prefix, 'ipv6');
  }
  return list;
}

const NON_PUBLIC = nonPublicRanges();

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NON_PUBLIC.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return !NON_PUBLIC.check(mapped[1], 'ipv4');
    return !NON_PUBLIC.check(address, 'ipv6');
  }
  return false;
}

function normalizeHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
}

/**
 * Which callback URLs the relay may POST to (contract §5): https only (http only with the local-testing flag),
 * hosts from the allow-list (`*.kakao.com` matches sub-domains), no credentials in the URL, and no private,
 * loopback or link-local address after DNS resolution unless the host is listed literally. The address that
 * passed is the one connected to, so a second DNS answer cannot redirect the request (no rebinding).
 */
export class CallbackUrlPolicy {
  private readonly literal: Set<string>;
  private readonly suffixes: string[];

  constructor(
    allowedHosts: string[],
    private readonly allowHttp: boolean,
    private readonly resolve: HostResolver,
  ) {
    this.literal = new Set(allowedHosts.filter((h) => !h.startsWith('*.')).map(normalizeHost));
    this.suffixes = allowedHosts.filter((h) => h.startsWith('*.')).map((h) => normalizeHost(h.slice(1)));
  }

  async check(raw: string): Promise<{ url: URL; address: ResolvedAddress }> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new CallbackRefusedError('the callback URL is not a valid URL');
    }
    if (url.protocol !== 'https:' && !(this.allowHttp && url.protocol === 'http:')) {
      throw new CallbackRefusedError(`callback URLs must use https (got ${url.protocol.replace(':', '')})`);
    }
    if (url.username || url.password)
      throw new CallbackRefusedError('callback URLs must not carry credentials');
    const host = normalizeHost(url.hostname);
    const listedLiterally = this.literal.has(host);
    const listedByWildcard = this.suffixes.some(
      (suffix) => host.endsWith(suffix) && host.length > suffix.length,
    );
    if (!listedLiterally && !listedByWildcard) {
      throw new CallbackRefusedError(`callback host ${host} is not in KAKAO_CALLBACK_ALLOWED_HOSTS`);
    }
    const family = isIP(host);
    let addresses: ResolvedAddress[];
    if (family) {
      addresses = [{ address: host, family: family as 4 | 6 }];
    } else {
      try {
        addresses = await this.resolve(host);
      } catch (e) {
        throw new CallbackRefusedError(`callback host ${host} does not resolve: ${(e as Error).message}`);
      }
    }
    if (addresses.length === 0) throw new CallbackRefusedError(`callback host ${host} does not resolve`);
    if (!listedLiterally) {
      const blocked = addresses.find((a) => !isPublicAddress(a.address));
      if (blocked) {
        throw new CallbackRefusedError(
          `callback host ${host} resolves to a non-public address (${blocked.address})`,
        );
      }
    }
    return { url, address: addresses[0] };
  }
}
