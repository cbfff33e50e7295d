import { parseConfig } from '@app/config';
import { CallbackRefusedError, RelayError, ResolvedAddress } from '@app/core';
import type { CallbackDns } from '@app/reply';
import { PUSH_URL_CHECK_REUSE_MS, PushUrlPolicy } from './push-url-policy';

const DNS: Record<string, ResolvedAddress[]> = {
  'agent.example.com': [{ address: '93.184.216.34', family: 4 }],
  'internal.example.com': [{ address: '10.1.2.3', family: 4 }],
  'rebind.example.com': [{ address: '127.0.0.1', family: 4 }],
};

function policy(env: Record<string, string> = {}, dnsAnswers = DNS) {
  const dns = { resolve: async (host: string) => dnsAnswers[host] ?? [] } as unknown as CallbackDns;
  return new PushUrlPolicy(parseConfig(env), dns);
}

function refusal(p: PushUrlPolicy, url: string): string {
  try {
    p.validate(url);
  } catch (e) {
    expect(e).toBeInstanceOf(RelayError);
    expect((e as RelayError).code).toBe('PUSH_URL_REFUSED');
    return (e as Error).message;
  }
  return 'accepted';
}

describe('PushUrlPolicy (the callback proxy rules for push endpoints)', () => {
  it('takes https URLs of any host and port', async () => {
    const p = policy();
    expect(refusal(p, 'https://agent.example.com/hook')).toBe('accepted');
    expect(refusal(p, 'https://agent.example.com:8443/hook')).toBe('accepted');
    expect((await p.check('https://agent.example.com:8443/hook')).address.address).toBe('93.184.216.34');
  });

  it('refuses http (unless PUSH_ALLOW_HTTP), credentials, private literals and long URLs at PUT', () => {
    const p = policy();
    expect(refusal(p, 'http://agent.example.com/hook')).toMatch(/must use https/);
    expect(refusal(policy({ PUSH_ALLOW_HTTP: 'true' }), 'http://agent.example.com/hook')).toBe('accepted');
    expect(refusal(p, 'https://u:p@agent.example.com/')).toMatch(/credentials/);
    expect(refusal(p, 'https://127.0.0.1/')).toMatch(/non-public/);
    expect(refusal(p, 'https://[::1]/')).toMatch(/non-public/);
    expect(refusal(p, 'nope')).toMatch(/not a valid URL/);
    expect(refusal(p, `https://agent.example.com/${'a'.repeat(2100)}`)).toMatch(/longer than/);
  });

  it('refuses at send a name resolving to a private address, unless the host is listed', async () => {
    await expect(policy().check('https://rebind.example.com/')).rejects.toThrow(CallbackRefusedError);
    await expect(policy().check('https://internal.example.com/')).rejects.toThrow(/non-public address/);
    const listed = policy({ PUSH_ALLOWED_PRIVATE_HOSTS: 'internal.example.com,127.0.0.1' });
    expect((await listed.check('https://internal.example.com/')).address.address).toBe('10.1.2.3');
    expect(refusal(listed, 'https://127.0.0.1:9000/')).toBe('accepted');
  });

  describe('reuse of a check that passed', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it(`keeps the address that passed for ${PUSH_URL_CHECK_REUSE_MS} ms, then asks DNS again; a refusal is never kept`, async () => {
      const answers = { ...DNS };
      const p = policy({}, answers);
      const url = 'https://agent.example.com/hook';
      expect((await p.check(url)).address.address).toBe('93.184.216.34');
      // DNS now answers a private address (rebinding): the pinned public one is used until the check runs again.
      answers['agent.example.com'] = [{ address: '10.9.9.9', family: 4 }];
      jest.advanceTimersByTime(PUSH_URL_CHECK_REUSE_MS - 1);
      expect((await p.check(url)).address.address).toBe('93.184.216.34');
      jest.advanceTimersByTime(1);
      await expect(p.check(url)).rejects.toThrow(/non-public address/);
      answers['agent.example.com'] = DNS['agent.example.com'];
      expect((await p.check(url)).address.address).toBe('93.184.216.34');
    });
  });
});
