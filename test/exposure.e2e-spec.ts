import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { RedisService } from '@app/messaging';
import { kakaoPayload, postWebhook, resetState, uniqueCallbackUrl, expectErrorBody } from '@app/testing';
import { endRateLimitWindows, RunningRelay, startRelay } from './support/test-app';

/**
 * What a client on the public internet can do to the relay's shared state: put its input into Redis keys, pick the
 * address its limits count under, lock the operator out, guess the admin token on /metrics (issue #11).
 */

async function allRedisKeys(relay: RunningRelay): Promise<string[]> {
  const redis = relay.app.get(RedisService).command;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

describe('rate-limit keys (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('a long plusfriendUserKey ends up in no Redis key (flood guard, /pair attempts)', async () => {
    const userKey = `long-user-${randomBytes(16).toString('hex')}-${'k'.repeat(200)}`.slice(0, 256);
    const marker = userKey.slice(0, 40);
    const message = kakaoPayload({ utterance: 'hello', userKey, callbackUrl: uniqueCallbackUrl() });
    expect((await postWebhook(relay.url, message)).status).toBe(200);
    expect(
      (await postWebhook(relay.url, kakaoPayload({ utterance: '/pair AAAA-AAAA', userKey }))).status,
    ).toBe(200);
    const keys = await allRedisKeys(relay);
    const limitKeys = keys.filter((k) => k.includes(':rl:'));
    // The limits did run (so the scan had something to find)...
    expect(limitKeys.some((k) => k.includes(':rl:user-messages:'))).toBe(true);
    expect(limitKeys.some((k) => k.includes(':rl:pair:'))).toBe(true);
    // ...under hashed keys, and nothing anywhere holds the user's key.
    for (const key of limitKeys) expect(key).toMatch(/:rl:[a-z0-9-]+:[0-9a-f]{32}$/);
    expect(keys.filter((k) => k.includes(marker))).toEqual([]);
  });

  it('a token-keyed limit keeps the token out of Redis too', async () => {
    const token = randomBytes(32).toString('hex');
    await request(relay.url).get('/v1/events').set('Authorization', `Bearer ${token}`);
    const keys = await allRedisKeys(relay);
    expect(keys.some((k) => k.includes(':rl:stream-connect:'))).toBe(true);
    expect(keys.filter((k) => k.includes(token.slice(0, 32)))).toEqual([]);
  });
});

describe('TRUST_PROXY: the client address behind proxies (e2e)', () => {
  const LIMIT = '2';
  const create = (relay: RunningRelay, xff?: string) => {
    const call = request(relay.url).post('/v1/sessions/create').send({});
    return xff === undefined ? call : call.set('X-Forwarded-For', xff);
  };
  let spoofs = 0;
  const spoofed = () => `6.6.${Math.floor(spoofs / 250)}.${spoofs++ % 250}`;

  /** Two sessions per client address; the third from the same client is 429 whatever it writes itself. */
  async function expectLimitedPerClient(
    relay: RunningRelay,
    header: (client: string) => string,
  ): Promise<void> {
    await endRateLimitWindows(relay, 'session-create');
    for (let i = 0; i < 2; i++) await create(relay, header('203.0.113.7')).expect(200);
    const third = await create(relay, header('203.0.113.7'));
    expectErrorBody(third, 429, 'RATE_LIMITED', { retryAfter: true });
    // Another client behind the same proxy is not refused.
    await create(relay, header('203.0.113.8')).expect(200);
    await create(relay, header('2001:db8:aa:bb::1')).expect(200);
    await create(relay, header('2001:db8:aa:bb::2')).expect(200);
    // The same IPv6 /64 is one client.
    expect((await create(relay, header('2001:db8:aa:bb:ffff::3'))).status).toBe(429);
    await endRateLimitWindows(relay, 'session-create');
  }

  describe.each([
    ['a hop count', '1', (client: string) => `${spoofed()}, ${client}`, (client: string) => client],
    ['true (one hop)', 'true', (client: string) => `${spoofed()}, ${client}`, (client: string) => client],
    [
      'a CIDR list',
      '127.0.0.1,10.0.0.0/8,::1/128',
      // Two proxies: the outer (10.1.2.3) appends the client, the inner (this test, 127.0.0.1) appends the outer.
      (client: string) => `${spoofed()}, ${client}, 10.1.2.3`,
      (client: string) => client,
    ],
  ])('%s (TRUST_PROXY=%s)', (_name, trust, appended, overwritten) => {
    let relay: RunningRelay;
    beforeAll(async () => {
      relay = await startRelay({ TRUST_PROXY: trust, RATE_LIMIT_SESSION_CREATES_PER_5_MIN: LIMIT });
    });
    afterAll(() => relay.close());

    it('appending proxy: the entry the client wrote itself is never used', async () => {
      await expectLimitedPerClient(relay, appended);
    });

    it('overwriting proxy: each client counts under its own address', async () => {
      await expectLimitedPerClient(relay, overwritten);
    });
  });

  it('two hops: the address the outer of two appending proxies saw', async () => {
    const relay = await startRelay({ TRUST_PROXY: '2', RATE_LIMIT_SESSION_CREATES_PER_5_MIN: LIMIT });
    try {
      await expectLimitedPerClient(relay, (client) => `${spoofed()}, ${client}, 10.9.9.9`);
    } finally {
      await relay.close();
    }
  });

  it('a peer outside the trusted networks is the client, whatever X-Forwarded-For says', async () => {
    const relay = await startRelay({
      TRUST_PROXY: '10.0.0.0/8',
      RATE_LIMIT_SESSION_CREATES_PER_5_MIN: LIMIT,
    });
    try {
      await endRateLimitWindows(relay, 'session-create');
      await create(relay, '203.0.113.1').expect(200);
      await create(relay, '203.0.113.2').expect(200);
      expect((await create(relay, '203.0.113.3')).status).toBe(429);
    } finally {
      await endRateLimitWindows(relay, 'session-create');
      await relay.close();
    }
  });

  it('refuses to start with a bad TRUST_PROXY, naming every bad entry', async () => {
    await expect(startRelay({ TRUST_PROXY: '10.0.0.0/8,10.0.0.0/40,proxy.local' })).rejects.toThrow(
      /TRUST_PROXY: "10\.0\.0\.0\/40"[\s\S]*TRUST_PROXY: "proxy\.local"/,
    );
  });
});

describe('admin failed-login limit (e2e)', () => {
  const ADMIN_TOKEN = 'admin-token-for-exposure-tests-01';
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay({ ADMIN_TOKEN });
  });
  afterAll(async () => {
    await endRateLimitWindows(relay, 'admin-auth-failures');
    await relay.close();
  });
  beforeEach(() => endRateLimitWindows(relay, 'admin-auth-failures'));

  it('past the limit wrong tokens get 429, and the correct token still works', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await request(relay.url).get('/admin/api/overview').set(bearer('wrong-token'))).status);
    }
    expect(statuses).toEqual([...new Array(10).fill(401), 429]);
    const refused = await request(relay.url).get('/admin/api/overview').set(bearer('wrong-token'));
    expectErrorBody(refused, 429, 'RATE_LIMITED', { retryAfter: true });
    await request(relay.url).get('/admin/api/overview').set(bearer(ADMIN_TOKEN)).expect(200);
    await request(relay.url).get('/metrics').set(bearer(ADMIN_TOKEN)).expect(200);
    // Still limited for wrong tokens after the correct one was used.
    expect((await request(relay.url).get('/admin/api/overview').set(bearer('wrong-again'))).status).toBe(429);
  });

  it('/metrics: wrong tokens count in the same limit (429 past it, and for /admin/api too)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push(
        (
          await request(relay.url)
            .get('/metrics')
            .set(bearer(`guess-${i}`))
        ).status,
      );
    }
    expect(statuses).toEqual([...new Array(10).fill(401), 429]);
    const refused = await request(relay.url).get('/metrics').set(bearer('guess-x'));
    expectErrorBody(refused, 429, 'RATE_LIMITED', { retryAfter: true });
    expect((await request(relay.url).get('/admin/api/overview').set(bearer('guess-y'))).status).toBe(429);
    await request(relay.url).get('/metrics').set(bearer(ADMIN_TOKEN)).expect(200);
  });

  it('failures on /admin/api count for /metrics', async () => {
    for (let i = 0; i < 10; i++) {
      await request(relay.url).get('/admin/api/overview').set(bearer('wrong')).expect(401);
    }
    expect((await request(relay.url).get('/metrics').set(bearer('wrong'))).status).toBe(429);
  });

  it('a missing token is 401 and not counted', async () => {
    for (let i = 0; i < 12; i++) await request(relay.url).get('/metrics').expect(401);
    expect((await request(relay.url).get('/metrics').set(bearer('wrong'))).status).toBe(401);
  });
});
