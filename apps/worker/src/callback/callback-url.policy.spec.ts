import {
  CallbackRefusedError,
  CallbackUrlPolicy,
  HostResolver,
  isPublicAddress,
} from './callback-url.policy';

const DNS: Record<string, string[]> = {
  'bot-api.kakao.com': ['211.249.220.24'],
  'internal.kakao.com': ['10.0.0.1'],
  'mixed.kakao.com': ['211.249.220.24', '192.168.1.1'],
  'v6.kakao.com': ['::1'],
  'mapped.kakao.com': ['::ffff:127.0.0.1'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  localhost: ['127.0.0.1'],
};
const resolver: HostResolver = async (host) => {
  const found = DNS[host];
  if (!found) throw new Error('ENOTFOUND');
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const defaults = new CallbackUrlPolicy(
  ['*.kakao.com', '*.kakaocdn.net', '*.kakaoenterprise.com'],
  false,
  resolver,
);

async function refused(policy: CallbackUrlPolicy, url: string): Promise<string> {
  try {
    await policy.check(url);
  } catch (e) {
    expect(e).toBeInstanceOf(CallbackRefusedError);
    return (e as Error).message;
  }
  throw new Error(`${url} was allowed`);
}

describe('CallbackUrlPolicy', () => {
  it('allows an https Kakao callback and pins the resolved address', async () => {
    const { url, address } = await defaults.check('https://bot-api.kakao.com/v1/callback/abc');
    expect(url.hostname).toBe('bot-api.kakao.com');
    expect(address).toEqual({ address: '211.249.220.24', family: 4 });
  });

  it.each([
    ['http://bot-api.kakao.com/cb', /https/],
    ['https://evil.example/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://127.0.0.1.nip.io/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://kakao.com/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://bot-api.kakao.com.evil.example/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://evilkakao.com/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://internal.kakao.com/', /non-public address \(10\.0\.0\.1\)/],
    ['https://mixed.kakao.com/', /non-public address \(192\.168\.1\.1\)/],
    ['https://v6.kakao.com/', /non-public/],
    ['https://mapped.kakao.com/', /non-public/],
    ['https://nowhere.kakao.com/', /does not resolve/],
    ['https://user:pw@bot-api.kakao.com/', /credentials/],
    ['ftp://bot-api.kakao.com/', /https/],
    ['not a url', /not a valid URL/],
    ['https://127.0.0.1/', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
  ])('refuses %s', async (url, reason) => {
    expect(await refused(defaults, url)).toMatch(reason);
  });

  it('allows http and loopback only when both the flag and the literal host say so', async () => {
    const local = new CallbackUrlPolicy(['127.0.0.1', 'localhost'], true, resolver);
    expect((await local.check('http://127.0.0.1:9999/cb')).address.address).toBe('127.0.0.1');
    expect((await local.check('http://localhost:9999/cb')).address.address).toBe('127.0.0.1');
    const noHttp = new CallbackUrlPolicy(['127.0.0.1'], false, resolver);
    expect(await refused(noHttp, 'http://127.0.0.1:9999/cb')).toMatch(/https/);
  });

  it('does not let a wildcard entry open private addresses', async () => {
    const wild = new CallbackUrlPolicy(['*.nip.io'], false, resolver);
    expect(await refused(wild, 'https://127.0.0.1.nip.io/')).toMatch(/non-public/);
  });

  it.each([
    ['8.8.8.8', true],
    ['211.249.220.24', true],
    ['2001:4860:4860::8888', true],
    ['10.1.2.3', false],
    ['172.31.255.255', false],
    ['192.168.0.1', false],
    ['127.0.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:10.0.0.1', false],
    ['not-an-ip', false],
  ])('classifies %s as public=%s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
