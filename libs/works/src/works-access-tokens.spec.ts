import { Logger } from '@nestjs/common';
import { FixedClock } from '@app/core';
import { RENEW_AT_FRACTION, tokenCacheKey, WorksAccessTokens } from './works-access-tokens';
import { IssuedWorksToken, WorksAuthClient, WorksClientApp } from './works-auth.client';
import { CachedWorksToken, WorksTokenCache } from './works-token.cache';

/** The Redis cache's behaviour in memory, with expiry by the test's clock. */
class MemoryTokenCache extends WorksTokenCache {
  readonly entries = new Map<string, { entry: CachedWorksToken; until: number }>();
  readonly locks = new Map<string, string>();
  private n = 0;

  constructor(private readonly clock: FixedClock) {
    super();
  }

  get(key: string): Promise<CachedWorksToken | null> {
    const hit = this.entries.get(key);
    return Promise.resolve(hit && hit.until > this.clock.now() ? hit.entry : null);
  }

  put(key: string, entry: CachedWorksToken, ttlMs: number): Promise<void> {
    this.entries.set(key, { entry, until: this.clock.now() + ttlMs });
    return Promise.resolve();
  }

  deleteIf(key: string, token: string): Promise<void> {
    if (this.entries.get(key)?.entry.token === token) this.entries.delete(key);
    return Promise.resolve();
  }

  tryLock(key: string): Promise<string | null> {
    if (this.locks.has(key)) return Promise.resolve(null);
    const value = `lock-${++this.n}`;
    this.locks.set(key, value);
    return Promise.resolve(value);
  }

  unlock(key: string, lock: string): Promise<void> {
    if (this.locks.get(key) === lock) this.locks.delete(key);
    return Promise.resolve();
  }
}

class FakeAuth {
  issued = 0;
  expiresInS = 86400;
  gate: Promise<void> | null = null;

  async issue(): Promise<IssuedWorksToken> {
    this.issued++;
    const n = this.issued;
    if (this.gate) await this.gate;
    return { accessToken: `token-${n}`, expiresInS: this.expiresInS };
  }
}

const app: WorksClientApp = {
  clientId: 'client-1',
  clientSecret: 'secret',
  serviceAccount: 'svc',
  privateKey: 'unused by the fake',
};

describe('WorksAccessTokens', () => {
  let clock: FixedClock;
  let cache: MemoryTokenCache;
  let auth: FakeAuth;
  let tokens: WorksAccessTokens;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new FixedClock();
    cache = new MemoryTokenCache(clock);
    auth = new FakeAuth();
    tokens = new WorksAccessTokens(cache, auth as unknown as WorksAuthClient, clock);
  });

  it('asks Works once and shares the token under a digest of the client id', async () => {
    expect(await tokens.token(app)).toBe('token-1');
    expect(await tokens.token(app)).toBe('token-1');
    expect(auth.issued).toBe(1);
    const key = tokenCacheKey('client-1');
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(key).not.toContain('client-1');
    expect([...cache.entries.keys()]).toEqual([key]);
    expect(cache.locks.size).toBe(0);
  });

  it(`renews at ${RENEW_AT_FRACTION * 100}% of the token's life, not before`, async () => {
    await tokens.token(app);
    clock.advance(86400_000 * RENEW_AT_FRACTION - 1);
    expect(await tokens.token(app)).toBe('token-1');
    clock.advance(1);
    expect(await tokens.token(app)).toBe('token-2');
    expect(auth.issued).toBe(2);
  });

  it('keeps using the still-valid token while another holder renews it', async () => {
    await tokens.token(app);
    clock.advance(86400_000 * 0.9);
    cache.locks.set(tokenCacheKey('client-1'), 'someone else');
    expect(await tokens.token(app)).toBe('token-1');
    expect(auth.issued).toBe(1);
  });

  it('keeps the still-valid token when an early renewal fails, and tries again next time', async () => {
    await tokens.token(app);
    clock.advance(86400_000 * 0.85);
    const issue = auth.issue.bind(auth);
    auth.issue = () => Promise.reject(new Error('HTTP 503'));
    expect(await tokens.token(app)).toBe('token-1');
    expect(cache.locks.size).toBe(0);
    auth.issue = issue;
    expect(await tokens.token(app)).toBe('token-2');
  });

  it('renews an expired token once for concurrent callers (expires_in as given)', async () => {
    auth.expiresInS = 60;
    await tokens.token(app);
    clock.advance(61_000);
    let open!: () => void;
    auth.gate = new Promise((resolve) => (open = resolve));
    const pending = Promise.all([tokens.token(app), tokens.token(app), tokens.token(app)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    open();
    expect(await pending).toEqual(['token-2', 'token-2', 'token-2']);
    expect(auth.issued).toBe(2);
  });

  it('invalidates only the token that failed: concurrent 401s renew once', async () => {
    await tokens.token(app);
    const [a, b] = await Promise.all([tokens.invalidate(app, 'token-1'), tokens.invalidate(app, 'token-1')]);
    expect([a, b]).toEqual(['token-2', 'token-2']);
    expect(auth.issued).toBe(2);
    // A late 401 of the old token leaves the new one alone.
    expect(await tokens.invalidate(app, 'token-1')).toBe('token-2');
    expect(auth.issued).toBe(2);
  });
});
