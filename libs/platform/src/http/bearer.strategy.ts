import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import { UnauthorizedError } from '@app/core';
import { bearerToken, queryToken } from './request-credentials';

/** A 401 in the contract's error body: the code machines read and the sentence the plugin shows. */
export interface BearerRefusal {
  code: string;
  message: string;
}

export const TOKEN_MISSING: BearerRefusal = {
  code: 'TOKEN_MISSING',
  message: 'Send the token as "Authorization: Bearer <token>".',
};
export const INVALID_TOKEN: BearerRefusal = { code: 'INVALID_TOKEN', message: 'The token is not valid.' };

const unauthorized = (refusal: BearerRefusal) => new UnauthorizedError(refusal.code, refusal.message);

/**
 * The check of one kind of bearer credential (agent tokens, the admin token; API keys and JWTs next), the same
 * steps for each:
 * 1. `tokenOf`: the `Authorization: Bearer` header, and `?token=` where `acceptsQueryToken` allows it (the SSE
 *    stream: EventSource cannot set headers). Override it for another carrier (an `X-Api-Key` header).
 * 2. No token: the uniform 401 `missing` (never counted).
 * 3. `principalFor` says who the token is, or null; it may throw a more specific 401 (`SESSION_EXPIRED`).
 * 4. A refused token — null or a 401 from `principalFor` — goes to `onRefused`, the failure-counting hook, which
 *    may answer something else instead (the admin token: 429 past the failed-login limit). Otherwise the answer
 *    is the 401 from `principalFor`, or the uniform 401 `invalid`.
 * Usable without passport (`/metrics` checks the admin token in its handler); `BearerStrategy` puts it behind a
 * guard.
 */
export abstract class BearerAuthenticator<P extends object> {
  protected readonly missing: BearerRefusal = TOKEN_MISSING;
  protected readonly invalid: BearerRefusal = INVALID_TOKEN;

  /** Who the token is, or null when it is not valid; may throw a more specific `UnauthorizedError`. */
  protected abstract principalFor(token: string, req: Request): Promise<P | null>;

  /** Where `?token=` is read besides the header; nowhere unless a subclass says so. */
  protected acceptsQueryToken(_req: Request): boolean {
    return false;
  }

  /** The failure-counting hook: called once per refused token; returns the error to answer instead, if any. */
  protected async onRefused(_req: Request, _token: string): Promise<Error | void> {
    return undefined;
  }

  tokenOf(req: Request): string | null {
    return bearerToken(req) ?? (this.acceptsQueryToken(req) ? queryToken(req) : null);
  }

  async authenticate(req: Request): Promise<P> {
    const token = this.tokenOf(req);
    if (!token) throw unauthorized(this.missing);
    let principal: P | null;
    try {
      principal = await this.principalFor(token, req);
    } catch (e) {
      if (e instanceof UnauthorizedError) throw (await this.onRefused(req, token)) ?? e;
      throw e;
    }
    if (principal) return principal;
    throw (await this.onRefused(req, token)) ?? unauthorized(this.invalid);
  }
}

/** The verify function the `PassportStrategy` mixin passes: it calls the subclass's `validate(req)`. */
export type BearerVerify = (req: Request, done: (err: unknown, user?: unknown) => void) => void;

/**
 * The base of the relay's bearer passport strategies: `class X extends PassportStrategy(BearerStrategy, name)`
 * with `validate(req)` answering the principal through a `BearerAuthenticator`. Passport keeps strategies in one
 * process-wide registry, so with several applications in one process (the multi-instance tests) the last one
 * registered would answer for all: the guard therefore puts its own application's authenticator (or the service
 * behind it) on the request, and `validate` uses that one. What the strategy adds to the authenticator: errors
 * go to the exception filter as they are, and a `validate` that answers no principal is the uniform 401 `invalid`.
 */
export class BearerStrategy extends Strategy {
  constructor(
    private readonly options: { invalid: BearerRefusal },
    private readonly verify: BearerVerify,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (err, user) => {
      if (err) return this.error(err instanceof Error ? err : new Error(String(err)));
      if (!user) return this.error(unauthorized(this.options.invalid));
      return this.success(user);
    });
  }
}
