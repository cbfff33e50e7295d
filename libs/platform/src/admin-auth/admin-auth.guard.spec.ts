import type { Request } from 'express';
import { parseConfig } from '@app/config';
import { RateLimitedError, UnauthorizedError } from '@app/core';
import type { RateLimiter, RateLimitResult } from '@app/messaging';
import { ADMIN_FAILURE_LIMIT, AdminAuthService } from './admin-auth.guard';
import { AdminTokenService } from './admin-token.service';

const TOKEN = 'the-admin-token-0123456789';

/** A limiter counting in memory; `down` makes it throw like a Redis outage. */
function fakeLimiter() {
  const counts = new Map<string, number>();
  const state = { down: false };
  const limiter = {
    hit: async (bucket: string, key: string, limit: number): Promise<RateLimitResult> => {
      if (state.down) throw new Error('redis down');
      const n = (counts.get(`${bucket}|${key}`) ?? 0) + 1;
      counts.set(`${bucket}|${key}`, n);
      return { allowed: n <= limit, limit, remaining: Math.max(0, limit - n), resetMs: 90_500 };
    },
    count: async () => 0,
  };
  return { limiter: limiter as unknown as RateLimiter, counts, state };
}

function request(token: string | null, address = '198.51.100.7'): Request {
  return {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    socket: { remoteAddress: address },
  } as unknown as Request;
}

describe('AdminAuthService', () => {
  const config = parseConfig({ ADMIN_TOKEN: TOKEN });
  const setup = () => {
    const fake = fakeLimiter();
    return { ...fake, auth: new AdminAuthService(new AdminTokenService(config), fake.limiter, config) };
  };

  it('answers wrong tokens 401 up to the limit, then 429 with Retry-After', async () => {
    const { auth } = setup();
    for (let i = 0; i < ADMIN_FAILURE_LIMIT; i++) {
      await expect(auth.authenticate(request('wrong-token'))).rejects.toMatchObject({
        code: 'INVALID_ADMIN_TOKEN',
      });
    }
    const refused = await auth.authenticate(request('wrong-token')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).headers).toEqual({ 'Retry-After': '91' });
  });

  it('always accepts the correct token, past the limit too, and never counts it', async () => {
    const { auth, counts } = setup();
    for (let i = 0; i < ADMIN_FAILURE_LIMIT + 5; i++)
      await auth.authenticate(request('wrong')).catch(() => null);
    const before = [...counts.values()];
    await expect(auth.authenticate(request(TOKEN))).resolves.toEqual({ admin: true });
    expect([...counts.values()]).toEqual(before);
  });

  it('counts per client address (IPv6 by /64) and not a missing token', async () => {
    const { auth, counts } = setup();
    await expect(auth.authenticate(request(null))).rejects.toMatchObject({ code: 'TOKEN_MISSING' });
    expect(counts.size).toBe(0);
    await auth.authenticate(request('x', '2001:db8:1:2::1')).catch(() => null);
    await auth.authenticate(request('x', '2001:db8:1:2::ffff')).catch(() => null);
    await auth.authenticate(request('x', '2001:db8:1:3::1')).catch(() => null);
    expect([...counts.values()].sort()).toEqual([1, 2]);
  });

  it('fails open while Redis is away: wrong tokens 401, the right one accepted', async () => {
    const { auth, state } = setup();
    state.down = true;
    await expect(auth.authenticate(request('wrong'))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(auth.authenticate(request(TOKEN))).resolves.toEqual({ admin: true });
  });
});
