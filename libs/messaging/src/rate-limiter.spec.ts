import { limitKeyDigest, RateLimiter } from './rate-limiter';
import type { RedisService } from './redis.service';

/** RedisService as the limiter uses it: key building, the fixed-window script and GET. */
function fakeRedis() {
  const windows = new Map<string, number>();
  const redis = {
    key: (...parts: string[]) => ['pfx', ...parts].join(':'),
    fixedWindow: async (key: string, windowMs: number) => {
      windows.set(key, (windows.get(key) ?? 0) + 1);
      return [windows.get(key) ?? 0, windowMs] as [number, number];
    },
    command: { get: async (key: string) => (windows.has(key) ? String(windows.get(key)) : null) },
  };
  return { redis: redis as unknown as RedisService, windows };
}

describe('RateLimiter', () => {
  it('never puts the raw key into Redis: keys are <prefix>:rl:<bucket>:<128-bit hex digest>', async () => {
    const { redis, windows } = fakeRedis();
    const limiter = new RateLimiter(redis);
    const userKey = `kakao:${'가'.repeat(200)}:\r\n*1 evil`;
    await limiter.hit('user-messages', userKey, 20, 60_000);
    const [key] = [...windows.keys()];
    expect(key).toBe(`pfx:rl:user-messages:${limitKeyDigest(userKey)}`);
    expect(key).toMatch(/^pfx:rl:user-messages:[0-9a-f]{32}$/);
    expect(await limiter.count('user-messages', userKey)).toBe(1);
  });

  it('counts the same key in one window and different keys apart', async () => {
    const { redis } = fakeRedis();
    const limiter = new RateLimiter(redis);
    expect((await limiter.hit('pair', 'a', 2, 1000)).remaining).toBe(1);
    expect((await limiter.hit('pair', 'a', 2, 1000)).allowed).toBe(true);
    expect((await limiter.hit('pair', 'a', 2, 1000)).allowed).toBe(false);
    expect((await limiter.hit('pair', 'b', 2, 1000)).allowed).toBe(true);
  });

  it('refuses a bucket that is not a fixed word (a caller putting input there)', async () => {
    const { redis } = fakeRedis();
    await expect(new RateLimiter(redis).hit('user:123', 'x', 1, 1000)).rejects.toThrow(/bucket/);
  });

  it('digests are 32 hex characters whatever the input', () => {
    expect(limitKeyDigest('')).toMatch(/^[0-9a-f]{32}$/);
    expect(limitKeyDigest('x'.repeat(1_000_000))).toMatch(/^[0-9a-f]{32}$/);
  });
});
