import type { Request } from 'express';
import { RateLimitedError, ServiceUnavailableError, UnauthorizedError } from '@app/core';
import { BearerAuthenticator, BearerRefusal, BearerStrategy, BearerVerify } from './bearer.strategy';

interface Principal {
  who: string;
}

function request(opts: { header?: string; query?: Record<string, unknown>; path?: string } = {}): Request {
  return {
    headers: opts.header === undefined ? {} : { authorization: opts.header },
    query: opts.query ?? {},
    path: opts.path ?? '/v1/thing',
  } as unknown as Request;
}

/** Knows 'good'; 'expired' is a specific 401; 'boom' a database error; counts refusals, 429 from the third. */
class TestAuthenticator extends BearerAuthenticator<Principal> {
  readonly refused: string[] = [];

  protected override acceptsQueryToken(req: Request): boolean {
    return req.path === '/v1/events';
  }

  protected async principalFor(token: string): Promise<Principal | null> {
    if (token === 'expired') throw new UnauthorizedError('SESSION_EXPIRED', 'expired');
    if (token === 'boom') throw new ServiceUnavailableError('DATABASE_UNAVAILABLE', 'down');
    return token === 'good' ? { who: 'agent' } : null;
  }

  protected override async onRefused(_req: Request, token: string): Promise<Error | void> {
    this.refused.push(token);
    if (this.refused.length >= 3) return new RateLimitedError('slow down', { 'Retry-After': '60' });
  }
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => e as UnauthorizedError,
  );

describe('BearerAuthenticator', () => {
  it('reads the bearer header, and ?token= only where the subclass allows it', () => {
    const auth = new TestAuthenticator();
    expect(auth.tokenOf(request({ header: 'Bearer abc' }))).toBe('abc');
    expect(auth.tokenOf(request({ header: 'bearer   abc  ' }))).toBe('abc');
    expect(auth.tokenOf(request({ header: 'Basic abc' }))).toBeNull();
    expect(auth.tokenOf(request({ query: { token: 'q' } }))).toBeNull();
    expect(auth.tokenOf(request({ query: { token: 'q' }, path: '/v1/events' }))).toBe('q');
    expect(auth.tokenOf(request({ query: { token: ['a', 'b'] }, path: '/v1/events' }))).toBeNull();
    expect(auth.tokenOf(request({ header: 'Bearer h', query: { token: 'q' }, path: '/v1/events' }))).toBe(
      'h',
    );
  });

  it('answers the principal of a good token without counting anything', async () => {
    const auth = new TestAuthenticator();
    await expect(auth.authenticate(request({ header: 'Bearer good' }))).resolves.toEqual({ who: 'agent' });
    expect(auth.refused).toEqual([]);
  });

  it('answers a missing token with the uniform 401 TOKEN_MISSING, not counted', async () => {
    const auth = new TestAuthenticator();
    const e = await refusal(auth.authenticate(request({ query: { token: '' }, path: '/v1/events' })));
    expect(e).toBeInstanceOf(UnauthorizedError);
    expect([e?.code, e?.message]).toEqual([
      'TOKEN_MISSING',
      'Send the token as "Authorization: Bearer <token>".',
    ]);
    expect(auth.refused).toEqual([]);
  });

  it('counts refused tokens (unknown, or a specific 401) and lets the hook answer instead', async () => {
    const auth = new TestAuthenticator();
    expect(await refusal(auth.authenticate(request({ header: 'Bearer nope' })))).toMatchObject({
      statusCode: 401,
      code: 'INVALID_TOKEN',
      message: 'The token is not valid.',
    });
    expect(await refusal(auth.authenticate(request({ header: 'Bearer expired' })))).toMatchObject({
      code: 'SESSION_EXPIRED',
    });
    expect(await refusal(auth.authenticate(request({ header: 'Bearer nope' })))).toBeInstanceOf(
      RateLimitedError,
    );
    expect(auth.refused).toEqual(['nope', 'expired', 'nope']);
  });

  it('passes other errors through uncounted', async () => {
    const auth = new TestAuthenticator();
    expect(await refusal(auth.authenticate(request({ header: 'Bearer boom' })))).toMatchObject({
      statusCode: 503,
    });
    expect(auth.refused).toEqual([]);
  });

  it('takes its 401s from the subclass', async () => {
    const admin: BearerRefusal = { code: 'INVALID_ADMIN_TOKEN', message: 'The admin token is not valid.' };
    class Custom extends TestAuthenticator {
      protected override readonly invalid = admin;
      protected override readonly missing = { code: 'TOKEN_MISSING', message: 'Send the admin token.' };
    }
    const auth = new Custom();
    expect(await refusal(auth.authenticate(request()))).toMatchObject({ message: 'Send the admin token.' });
    expect(await refusal(auth.authenticate(request({ header: 'Bearer x' })))).toMatchObject(admin);
  });
});

describe('BearerStrategy', () => {
  /** Runs the strategy as passport would and tells which outcome it chose. */
  function run(verify: BearerVerify, invalid: BearerRefusal = { code: 'INVALID_TOKEN', message: 'nope' }) {
    const strategy = new BearerStrategy({ invalid }, verify);
    return new Promise<{ user?: unknown; error?: unknown }>((resolve) => {
      Object.assign(strategy, {
        success: (user: unknown) => resolve({ user }),
        error: (error: unknown) => resolve({ error }),
        fail: () => resolve({ error: 'fail() must not be used' }),
      });
      strategy.authenticate(request({ header: 'Bearer good' }));
    });
  }

  it('succeeds with the principal validate answered', async () => {
    await expect(run((_req, done) => done(null, { who: 'agent' }))).resolves.toEqual({
      user: { who: 'agent' },
    });
  });

  it('hands errors to the exception filter as they are', async () => {
    const limited = new RateLimitedError('slow down', { 'Retry-After': '1' });
    await expect(run((_req, done) => done(limited))).resolves.toEqual({ error: limited });
  });

  it('turns "no principal" into the uniform 401 it was given', async () => {
    const { error } = await run((_req, done) => done(null, false), {
      code: 'INVALID_ADMIN_TOKEN',
      message: 'no',
    });
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ statusCode: 401, code: 'INVALID_ADMIN_TOKEN', message: 'no' });
  });
});
