import {
  CallbackRefusedError,
  CallbackUrlPolicy,
  HostResolver,
  isPublicAddress,
  parseCallbackHostEntry,
} from './callback-url-policy';

const DNS: Record<string, string[]> = {
  'bot-api.kakao.com': ['211.249.220.24'],
  'v6-ok.kakao.com': ['2406:5a00:1::1'],
  'internal.kakao.com': ['10.0.0.1'],
  'mixed.kakao.com': ['211.249.220.24', '192.168.1.1'],
  'v6.kakao.com': ['::1'],
  'mapped.kakao.com': ['::ffff:127.0.0.1'],
  'compat.kakao.com': ['::127.0.0.1'],
  'nat64.kakao.com': ['64:ff9b:1::a00:1'],
  'sixtofour.kakao.com': ['2002:7f00:1::'],
  'ula.kakao.com': ['fd12:3456::1'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  localhost: ['127.0.0.1'],
  'private.example': ['10.1.2.3'],
};
const resolver: HostResolver = async (host) => {
  const found = DNS[host];
  if (!found) throw new Error('ENOTFOUND');
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const KAKAO = ['*.kakao.com', '*.kakaocdn.net', '*.kakaoenterprise.com'];
const policy = (allowedHosts: string[], allowHttp = false) =>
  new CallbackUrlPolicy({ allowedHosts, allowHttp }, resolver);
const defaults = policy(KAKAO);

async function verdict(p: CallbackUrlPolicy, url: string): Promise<string> {
  try {
    const { address } = await p.check(url);
    return `ok ${address.address}`;
  } catch (e) {
    expect(e).toBeInstanceOf(CallbackRefusedError);
    return (e as Error).message;
  }
}

describe('isPublicAddress: only global unicast', () => {
  it.each([
    // IPv4: public
    ['8.8.8.8', true],
    ['211.249.220.24', true],
    ['1.1.1.1', true],
    ['100.63.255.255', true],
    ['100.128.0.0', true],
    ['172.15.255.255', true],
    ['172.32.0.0', true],
    ['192.88.98.255', true],
    ['198.17.255.255', true],
    ['223.255.255.255', true],
    // IPv4: every private / reserved range
    ['0.0.0.0', false],
    ['0.255.255.255', false],
    ['10.1.2.3', false],
    ['100.64.0.1', false],
    ['100.127.255.255', false],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['169.254.169.254', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.0.0.8', false],
    ['192.0.2.1', false],
    ['192.31.196.1', false],
    ['192.52.193.1', false],
    ['192.88.99.1', false],
    ['192.168.0.1', false],
    ['192.175.48.1', false],
    ['198.18.0.1', false],
    ['198.19.255.255', false],
    ['198.51.100.7', false],
    ['203.0.113.9', false],
    ['224.0.0.1', false],
    ['239.255.255.250', false],
    ['240.0.0.1', false],
    ['255.255.255.255', false],
    // IPv6: global unicast
    ['2001:4860:4860::8888', true],
    ['2406:5a00:1::1', true],
    ['2600::1', true],
    ['2002:0808:0808::1', true], // 6to4 of 8.8.8.8
    ['2001:200::1', true], // just past 2001::/23
    ['3ffe::1', true],
    ['::ffff:8.8.8.8', true], // IPv4-mapped: the IPv4 address itself
    // IPv6: every non-global range
    ['::', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::127.0.0.1', false], // IPv4-compatible ::/96
    ['::8.8.8.8', false],
    ['64:ff9b::10.0.0.1', false], // NAT64
    ['64:ff9b::808:808', false],
    ['64:ff9b:1::a00:1', false], // local-use NAT64
    ['100::1', false], // discard
    ['2001::1', false], // Teredo
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false],
    ['2001:2::1', false], // benchmarking
    ['2001:10::1', false], // ORCHID
    ['2001:20::1', false], // ORCHIDv2
    ['2001:db8::1', false], // documentation
    ['2001:db8:ffff::1', false],
    ['3fff::1', false], // documentation (RFC 9637)
    ['3fff:fff::1', false],
    ['2002:7f00:1::', false], // 6to4 of 127.0.0.1
    ['2002:0a00:0001::1', false], // 6to4 of 10.0.0.1
    ['2002:c0a8:0101::1', false], // 6to4 of 192.168.1.1
    ['2002:a9fe:a9fe::1', false], // 6to4 of 169.254.169.254
    ['fc00::1', false], // unique-local
    ['fd12:3456::1', false],
    ['fe80::1', false], // link-local
    ['fe80::1%eth0', false],
    ['febf::1', false],
    ['fec0::1', false], // site-local
    ['ff02::1', false], // multicast
    ['ff0e::1', false],
    ['4000::1', false], // outside 2000::/3
    ['1fff::1', false],
    ['not-an-ip', false],
    ['', false],
  ])('%s → public=%s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('parseCallbackHostEntry', () => {
  it.each([
    ['*.kakao.com', { wildcard: true, host: 'kakao.com', port: null }],
    ['bot-api.kakao.com', { wildcard: false, host: 'bot-api.kakao.com', port: null }],
    ['Bot.Example.COM.', { wildcard: false, host: 'bot.example.com', port: null }],
    ['bot.example.com:8443', { wildcard: false, host: 'bot.example.com', port: 8443 }],
    ['127.0.0.1', { wildcard: false, host: '127.0.0.1', port: null }],
    ['127.0.0.1:9443', { wildcard: false, host: '127.0.0.1', port: 9443 }],
    ['localhost', { wildcard: false, host: 'localhost', port: null }],
    ['::1', { wildcard: false, host: '::1', port: null }],
    ['[::1]', { wildcard: false, host: '::1', port: null }],
    ['[2001:0db8::0001]:8443', { wildcard: false, host: '2001:db8::1', port: 8443 }],
  ])('parses %s', (raw, expected) => {
    expect(parseCallbackHostEntry(raw)).toEqual(expected);
  });

  it.each([
    'bad host',
    'host:0',
    'host:65536',
    'host:abc',
    '*.kakao.com:8443',
    '*.127.0.0.1',
    '[::1',
    '[not-v6]:80',
    'https://host',
    'a..b',
    '',
  ])('refuses %j', (raw) => {
    expect(parseCallbackHostEntry(raw)).toBeNull();
  });
});

describe('CallbackUrlPolicy', () => {
  const local = policy(['127.0.0.1', 'localhost', '[::1]'], true);
  const ported = policy([...KAKAO, 'bot.example.com:8443', '127.0.0.1:9443', '[2406:5a00:1::2]:8443']);

  it.each<[string, CallbackUrlPolicy, string, RegExp | string]>([
    // allowed, pinned to the address that passed
    ['default', defaults, 'https://bot-api.kakao.com/v1/callback/abc', 'ok 211.249.220.24'],
    ['default', defaults, 'https://bot-api.kakao.com:443/v1/callback/abc', 'ok 211.249.220.24'],
    ['default', defaults, 'https://BOT-API.kakao.com./v1/cb', 'ok 211.249.220.24'],
    ['default', defaults, 'https://v6-ok.kakao.com/cb', 'ok 2406:5a00:1::1'],
    // scheme, credentials, syntax
    ['default', defaults, 'http://bot-api.kakao.com/cb', /https/],
    ['default', defaults, 'ftp://bot-api.kakao.com/', /https/],
    ['default', defaults, 'https://user:pw@bot-api.kakao.com/', /credentials/],
    ['default', defaults, 'https://user@bot-api.kakao.com/', /credentials/],
    ['default', defaults, 'not a url', /not a valid URL/],
    // the allow-list
    ['default', defaults, 'https://evil.example/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['default', defaults, 'https://127.0.0.1.nip.io/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['default', defaults, 'https://kakao.com/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['default', defaults, 'https://bot-api.kakao.com.evil.example/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['default', defaults, 'https://evilkakao.com/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['default', defaults, 'https://127.0.0.1/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['default', defaults, 'https://[::1]/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    // ports: 443 only, unless host:port is listed
    ['default', defaults, 'https://bot-api.kakao.com:8443/cb', /port 443 unless bot-api\.kakao\.com:8443/],
    ['default', defaults, 'https://bot-api.kakao.com:22/cb', /port 443/],
    ['default', defaults, 'https://bot-api.kakao.com:80/cb', /port 443/],
    ['ported', ported, 'https://bot.example.com:8443/cb', /does not resolve/],
    ['ported', ported, 'https://bot.example.com:8444/cb', /port 443 unless bot\.example\.com:8444/],
    ['ported', ported, 'https://127.0.0.1:9443/cb', 'ok 127.0.0.1'],
    ['ported', ported, 'https://127.0.0.1:9444/cb', /port 443/],
    ['ported', ported, 'https://[2406:5a00:1::2]:8443/cb', 'ok 2406:5a00:1::2'],
    ['ported', ported, 'https://[2406:5a00:1::2]:8444/cb', /port 443 unless \[2406:5a00:1::2\]:8444/],
    ['ported', ported, 'https://bot-api.kakao.com:8443/cb', /port 443/],
    // addresses after DNS (wildcard entries never open private addresses)
    ['default', defaults, 'https://internal.kakao.com/', /non-public address \(10\.0\.0\.1\)/],
    ['default', defaults, 'https://mixed.kakao.com/', /non-public address \(192\.168\.1\.1\)/],
    ['default', defaults, 'https://v6.kakao.com/', /non-public address \(::1\)/],
    ['default', defaults, 'https://mapped.kakao.com/', /non-public address/],
    ['default', defaults, 'https://compat.kakao.com/', /non-public address \(::127\.0\.0\.1\)/],
    ['default', defaults, 'https://nat64.kakao.com/', /non-public address/],
    ['default', defaults, 'https://sixtofour.kakao.com/', /non-public address/],
    ['default', defaults, 'https://ula.kakao.com/', /non-public address/],
    ['default', defaults, 'https://nowhere.kakao.com/', /does not resolve/],
    // local testing: http, any port of a listed host, and the literal host may be private
    ['local', local, 'http://127.0.0.1:9999/cb', 'ok 127.0.0.1'],
    ['local', local, 'https://127.0.0.1:9999/cb', 'ok 127.0.0.1'],
    ['local', local, 'http://localhost:9999/cb', 'ok 127.0.0.1'],
    ['local', local, 'http://[::1]:9999/cb', 'ok ::1'],
    ['local', local, 'http://127.0.0.2:9999/cb', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['local', local, 'http://bot-api.kakao.com/cb', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
  ])('%s: %s → %s', async (_name, p, url, expected) => {
    const answer = await verdict(p, url);
    if (typeof expected === 'string') expect(answer).toBe(expected);
    else expect(answer).toMatch(expected);
  });

  it('refuses http without the local-testing flag even for a literal host', async () => {
    expect(await verdict(policy(['127.0.0.1']), 'http://127.0.0.1:9999/cb')).toMatch(/https/);
  });

  it('does not let a wildcard entry open a private address', async () => {
    expect(await verdict(policy(['*.nip.io']), 'https://127.0.0.1.nip.io/')).toMatch(/non-public/);
  });

  it('lets a name listed literally resolve to a private address', async () => {
    expect(await verdict(policy(['private.example']), 'https://private.example/')).toBe('ok 10.1.2.3');
  });

  describe('checkStatic (the webhook: no DNS)', () => {
    const noDns = new CallbackUrlPolicy({ allowedHosts: KAKAO, allowHttp: false });

    it.each<[string, RegExp | null]>([
      ['https://bot-api.kakao.com/v1/callback/x', null],
      ['https://internal.kakao.com/', null], // a name: only DNS can tell, at send time
      ['http://bot-api.kakao.com/', /https/],
      ['https://bot-api.kakao.com:8443/', /port 443/],
      ['https://evil.example/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
      ['https://u:p@bot-api.kakao.com/', /credentials/],
      ['%%%', /not a valid URL/],
    ])('%s', (url, reason) => {
      if (reason === null) expect(noDns.checkStatic(url).host).toBe(new URL(url).hostname);
      else expect(() => noDns.checkStatic(url)).toThrow(reason);
    });

    it('judges literal IP addresses at once', () => {
      const ips = new CallbackUrlPolicy({ allowedHosts: ['*.example'], allowHttp: false });
      expect(() => ips.checkStatic('https://10.0.0.1/')).toThrow(/not in KAKAO/);
      const listed = new CallbackUrlPolicy({ allowedHosts: ['10.0.0.1'], allowHttp: false });
      expect(listed.checkStatic('https://10.0.0.1/').literalAddress).toEqual({
        address: '10.0.0.1',
        family: 4,
      });
    });

    it('needs a resolver only to resolve names', async () => {
      await expect(noDns.check('https://bot-api.kakao.com/')).rejects.toThrow(/resolver/);
    });
  });

  it('refuses an allow-list it cannot parse', () => {
    expect(() => policy(['bad host'])).toThrow(/invalid KAKAO_CALLBACK_ALLOWED_HOSTS entry/);
  });
});
