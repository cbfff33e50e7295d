import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { RateLimitedError, UnauthorizedError } from '@app/core';
import { RateLimiter } from '@app/messaging';
import { BearerAuthenticator, BearerRefusal, BearerStrategy } from '../http/bearer.strategy';
import { clientIp } from '../http/request-credentials';
import { AdminTokenService } from './admin-token.service';

export const ADMIN_STRATEGY = 'admin-token';
/** Failed admin logins allowed per client address per window; past it, wrong tokens get 429. */
export const ADMIN_FAILURE_LIMIT = 10;
export const ADMIN_FAILURE_WINDOW_MS = 5 * 60 * 1000;
/** The limiter bucket of failed admin-token checks, shared by the admin API, the dashboard's calls and /metrics. */
export const ADMIN_FAILURE_BUCKET = 'admin-auth-failures';

export interface AdminPrincipal {
  admin: true;
}

/** See BearerStrategy: the guard hands its own application's service to the process-wide strategy. */
const REQUEST_ADMIN_AUTH = Symbol('admin-auth');
type AdminAuthRequest = Request & { [REQUEST_ADMIN_AUTH]?: AdminAuthService };

const ADMIN_INVALID: BearerRefusal = {
  code: 'INVALID_ADMIN_TOKEN',
  message: 'The admin token is not valid.',
};

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. The correct token always authenticates, from
 * any address, however many failures that address has: a shared address (an office NAT, a proxy) or an attacker
 * guessing from it can never lock the operator out. Wrong tokens are counted per client address in Redis (so
 * across replicas); past `ADMIN_FAILURE_LIMIT` in a window they are answered 429 with `Retry-After` instead of
 * 401. Every check of the admin token (admin API, dashboard, `/metrics`) goes through here, so all count in the
 * same limit.
 */
@Injectable()
export class AdminAuthService extends BearerAuthenticator<AdminPrincipal> {
  protected override readonly missing: BearerRefusal = {
    code: 'TOKEN_MISSING',
    message: 'Send the admin token as "Authorization: Bearer <token>".',
  };
  protected override readonly invalid = ADMIN_INVALID;
  private readonly logger = new Logger('AdminAuth');

  constructor(
    private readonly tokens: AdminTokenService,
    private readonly limiter: RateLimiter,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {
    super();
  }

  protected async principalFor(token: string): Promise<AdminPrincipal | null> {
    return this.tokens.matches(token) ? { admin: true } : null;
  }

  /** Counts the wrong token against the client address; past the limit the answer is 429 instead of 401. */
  protected override async onRefused(req: Request): Promise<RateLimitedError | void> {
    let result;
    try {
      result = await this.limiter.hit(
        ADMIN_FAILURE_BUCKET,
        clientIp(req, this.config.trustProxy),
        ADMIN_FAILURE_LIMIT,
        ADMIN_FAILURE_WINDOW_MS,
      );
    } catch (e) {
      // Redis away: the failure is not counted (limits fail open), the answer is still 401.
      this.logger.warn(`admin failure counter unavailable: ${(e as Error).message}`);
    }
    if (result && !result.allowed) return this.tooMany(result.resetMs);
  }

  private tooMany(resetMs: number): RateLimitedError {
    const seconds = Math.max(1, Math.ceil(resetMs / 1000));
    return new RateLimitedError(
      `Too many failed admin logins from this address; wrong tokens are refused for ${seconds} s.`,
      { 'Retry-After': String(seconds) },
    );
  }
}

@Injectable()
export class AdminTokenStrategy extends PassportStrategy(BearerStrategy, ADMIN_STRATEGY) {
  constructor(private readonly service: AdminAuthService) {
    super({ invalid: ADMIN_INVALID });
  }

  validate(req: AdminAuthRequest): Promise<AdminPrincipal> {
    return (req[REQUEST_ADMIN_AUTH] ?? this.service).authenticate(req);
  }
}

@Injectable()
export class AdminAuthGuard extends AuthGuard(ADMIN_STRATEGY) {
  constructor(private readonly service: AdminAuthService) {
    super();
  }

  override handleRequest<T = AdminPrincipal>(err: unknown, user: T | false): T {
    if (err) throw err;
    if (!user) throw new UnauthorizedError(ADMIN_INVALID.code, ADMIN_INVALID.message);
    return user;
  }

  override canActivate(context: ExecutionContext) {
    context.switchToHttp().getRequest<AdminAuthRequest>()[REQUEST_ADMIN_AUTH] = this.service;
    return super.canActivate(context);
  }
}
