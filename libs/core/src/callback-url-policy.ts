import { isIP } from 'node:net';

/*
 * Which callback URLs the relay may POST to (contract §5 and §7). One implementation for both users: the
 * webhook checks the static part (`checkStatic`: scheme, credentials, allow-list, port, literal IP addresses)
 * before anything is stored, without DNS; the callback sender checks it all again at send time and adds the
 * DNS answer (`check`), connecting to the address that passed.
 */

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

/** An entry of `KAKAO_CALLBACK_ALLOWED_HOSTS`: `host`, `*.suffix`, `host:port`, `[v6]` or `[v6]:port`. */
export interface CallbackHostEntry {
  /** `*.suffix`: any sub-domain of `host` (never `host` itself, never an IP address). */
  wildcard: boolean;
  /** Lower case, no trailing dot, IPv6 without brackets, IP addresses in their canonical form. */
  host: string;
  /** Set only for `host:port` entries, which are always literal. */
  port: number | null;
}

const LABEL = '[a-z0-9]([a-z0-9-]*[a-z0-9])?';
const DNS_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/** Canonical form of a host as `URL` writes it (IPv4 `127.1` → `127.0.0.1`, IPv6 compressed), unbracketed. */
function canonicalHost(host: string): string | null {
  const bare = host.toLowerCase().replace(/\.$/, '');
  const v6 = isIP(bare) === 6;
  try {
    const hostname = new URL(`http://${v6 ? `[${bare}]` : bare}/`).hostname;
    return hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return null;
  }
}

/** Parses one allow-list entry; `null` when it is not one (the configuration lists it as a problem). */
export function parseCallbackHostEntry(raw: string): CallbackHostEntry | null {
  const entry = raw.trim().toLowerCase();
  if (entry.startsWith('*.')) {
    const suffix = entry.slice(2).replace(/\.$/, '');
    // A wildcard names DNS sub-domains only: no port, no IP address.
    if (!DNS_NAME.test(suffix) || isIP(suffix) !== 0) return null;
    return { wildcard: true, host: suffix, port: null };
  }
  let host = entry;
  let port: number | null = null;
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1];
    if (isIP(host) !== 6) return null;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(entry) === 6) {
    host = entry;
  } else {
    const withPort = /^([^:]+):(\d{1,5})$/.exec(entry);
    if (withPort) {
      host = withPort[1];
      port = Number(withPort[2]);
    }
    if (isIP(host) !== 4 && !DNS_NAME.test(host.replace(/\.$/, ''))) return null;
  }
  if (port !== null && (port < 1 || port > 65535)) return null;
  const canonical = canonicalHost(host);
  return canonical ? { wildcard: false, host: canonical, port } : null;
}

// --- Address classification -----------------------------------------------------------------------------

/** [network, prefix] of every IPv4 range that is not global unicast (RFC 6890 and its updates). */
const NON_GLOBAL_V4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.31.196.0', 24], // AS112
  ['192.52.193.0', 24], // AMT
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['192.175.48.0', 24], // AS112 direct delegation
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const NON_GLOBAL_V4_MASKS = NON_GLOBAL_V4.map(([net, prefix]) => {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { net: (v4ToInt(net) & mask) >>> 0, mask };
});

function isGlobalV4(address: string): boolean {
  const n = v4ToInt(address);
  return !NON_GLOBAL_V4_MASKS.some(({ net, mask }) => (n & mask) >>> 0 === net);
}

/** The eight 16-bit groups of an IPv6 address (zone index dropped), or null. */
export function ipv6Groups(address: string): number[] | null {
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return null;
  let text = bare.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4ToInt(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return groups.length === 8 ? groups.map((g) => parseInt(g, 16)) : null;
}

function v4FromGroups(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** Whether the first `prefix` bits of `groups` equal those of `net`. */
function inV6(groups: number[], net: number[], prefix: number): boolean {
  for (let i = 0; i < 8 && prefix > 0; i++, prefix -= 16) {
    const bits = Math.min(16, prefix);
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if ((groups[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}

/** Special-purpose ranges inside 2000::/3 that are not global unicast. */
const NON_GLOBAL_V6_IN_2000: ReadonlyArray<readonly [string, number]> = [
  // IETF protocol assignments: Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID 2001:10::/28 and ORCHIDv2
  // 2001:20::/28, PCP/TURN anycast… none is a place a Kakao callback lives.
  ['2001::', 23],
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];
const NON_GLOBAL_V6_IN_2000_GROUPS = NON_GLOBAL_V6_IN_2000.map(
  ([net, prefix]) => [ipv6Groups(net) as number[], prefix] as const,
);

function isGlobalV6(groups: number[]): boolean {
  // IPv4-mapped ::ffff:0:0/96 is the IPv4 address itself.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return isGlobalV4(v4FromGroups(groups[6], groups[7]));
  }
  // Global unicast is 2000::/3; everything else (::, ::1, IPv4-compatible ::/96, NAT64 64:ff9b::/96 and
  // 64:ff9b:1::/48, discard 100::/64, unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
  // multicast ff00::/8, unassigned space) is not.
  if ((groups[0] & 0xe000) !== 0x2000) return false;
  if (NON_GLOBAL_V6_IN_2000_GROUPS.some(([net, prefix]) => inV6(groups, net, prefix))) return false;
  // 6to4 2002::/16 carries an IPv4 address in its next 32 bits: global only if that one is.
  if (groups[0] === 0x2002) return isGlobalV4(v4FromGroups(groups[1], groups[2]));
  return true;
}

/** Whether a callback may reach this address although its host is not listed literally. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address.replace(/%.*$/, ''));
  if (family === 4) return isGlobalV4(address);
  if (family === 6) {
    const groups = ipv6Groups(address);
    return groups !== null && isGlobalV6(groups);
  }
  return false;
}

// --- The policy ---------------------------------------------------------------------------------------------

export interface CallbackUrlPolicyOptions {
  allowedHosts: readonly string[];
  /** `KAKAO_CALLBACK_ALLOW_HTTP`: local testing only; also opens every port of a listed host. */
  allowHttp: boolean;
  /**
   * Push endpoints (server-mode §2): any host and any port; `allowedHosts` then lists only the hosts that may be
   * private (`PUSH_ALLOWED_PRIVATE_HOSTS`). Everything else (scheme, credentials, public addresses, pinning) holds.
   */
  anyHost?: boolean;
  /** What the refusals call the URL ("callback" by default) and the setting that lists hosts. */
  label?: { url: string; setting: string };
}

/** What the static check concluded about a URL. */
export interface StaticCallbackTarget {
  url: URL;
  /** Lower case, no trailing dot, IPv6 without brackets. */
  host: string;
  port: number;
  listedLiterally: boolean;
  /** Set when the host is an IP address (no DNS needed). */
  literalAddress: ResolvedAddress | null;
}

/**
 * https only (http only with the local-testing flag), hosts from the allow-list (`*.kakao.com` matches
 * sub-domains), no credentials in the URL, port 443 unless `host:port` is listed (any port with the
 * local-testing flag), and no address outside global unicast unless the host is listed literally (a literal
 * IP address at once, a name after DNS resolution). The address that passed is the one connected to, so a
 * second DNS answer cannot redirect the request (no rebinding).
 */
export class CallbackUrlPolicy {
  private readonly literal: CallbackHostEntry[];
  private readonly suffixes: string[];
  private readonly name: string;
  private readonly setting: string;

  constructor(
    private readonly options: CallbackUrlPolicyOptions,
    private readonly resolve?: HostResolver,
  ) {
    this.name = options.label?.url ?? 'callback';
    this.setting = options.label?.setting ?? 'KAKAO_CALLBACK_ALLOWED_HOSTS';
    const entries = options.allowedHosts.map((raw) => {
      const entry = parseCallbackHostEntry(raw);
      if (!entry) throw new Error(`invalid ${this.setting} entry: ${raw}`);
      return entry;
    });
    this.literal = entries.filter((e) => !e.wildcard);
    this.suffixes = entries.filter((e) => e.wildcard).map((e) => `.${e.host}`);
  }

  /** Everything that can be judged without DNS. Throws `CallbackRefusedError`. */
  checkStatic(raw: string): StaticCallbackTarget {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new CallbackRefusedError(`the ${this.name} URL is not a valid URL`);
    }
    const https = url.protocol === 'https:';
    if (!https && !(this.options.allowHttp && url.protocol === 'http:')) {
      throw new CallbackRefusedError(
        `${this.name} URLs must use https (got ${url.protocol.replace(':', '')})`,
      );
    }
    if (url.username || url.password) {
      throw new CallbackRefusedError(`${this.name} URLs must not carry credentials`);
    }
    const host = url.hostname
      .toLowerCase()
      .replace(/\.$/, '')
      .replace(/^\[(.*)\]$/, '$1');
    const listedLiterally = this.literal.some((e) => e.host === host);
    const listedByWildcard = this.suffixes.some(
      (suffix) => host.endsWith(suffix) && host.length > suffix.length,
    );
    if (!this.options.anyHost && !listedLiterally && !listedByWildcard) {
      throw new CallbackRefusedError(`${this.name} host ${host} is not in ${this.setting}`);
    }
    const port = url.port ? Number(url.port) : https ? 443 : 80;
    const portListed = this.literal.some((e) => e.host === host && e.port === port);
    if (!this.options.anyHost && !this.options.allowHttp && port !== 443 && !portListed) {
      throw new CallbackRefusedError(
        `${this.name} URLs must use port 443 unless ${host.includes(':') ? `[${host}]` : host}:${port} is in ${this.setting}`,
      );
    }
    const family = isIP(host);
    const literalAddress = family ? { address: host, family: family as 4 | 6 } : null;
    if (literalAddress && !listedLiterally && !isPublicAddress(host)) {
      throw new CallbackRefusedError(`${this.name} host ${host} is a non-public address`);
    }
    return { url, host, port, listedLiterally, literalAddress };
  }

  /** The static check, then DNS: every resolved address must be public unless the host is listed literally. */
  async check(raw: string): Promise<{ url: URL; address: ResolvedAddress }> {
    const target = this.checkStatic(raw);
    const { url, host } = target;
    let addresses: ResolvedAddress[];
    if (target.literalAddress) {
      addresses = [target.literalAddress];
    } else {
      if (!this.resolve) throw new Error('CallbackUrlPolicy.check needs a resolver');
      try {
        addresses = await this.resolve(host);
      } catch (e) {
        throw new CallbackRefusedError(`${this.name} host ${host} does not resolve: ${(e as Error).message}`);
      }
    }
    if (addresses.length === 0) throw new CallbackRefusedError(`${this.name} host ${host} does not resolve`);
    if (!target.listedLiterally) {
      const blocked = addresses.find((a) => !isPublicAddress(a.address));
      if (blocked) {
        throw new CallbackRefusedError(
          `${this.name} host ${host} resolves to a non-public address (${blocked.address})`,
        );
      }
    }
    return { url, address: addresses[0] };
  }
}
