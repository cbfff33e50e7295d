import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { RateLimitedError, UnauthorizedError } from '@app/core';
import { RateLimiter } from '@app/messaging';
import { bearerToken, clientIp } from '../http/request-credentials';
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

/** See AgentAuthGuard: the guard hands its own application's service to the process-wide strategy. */
const REQUEST_ADMIN_AUTH = Symbol('admin-auth');
type AdminAuthRequest = Request & { [REQUEST_ADMIN_AUTH]?: AdminAuthService };

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. The correct token always authenticates, from
 * any address, however many failures that address has: a shared address (an office NAT, a proxy) or an attacker
 * guessing from it can never lock the operator out. Wrong tokens are counted per client address in Redis (so
 * across replicas); past `ADMIN_FAILURE_LIMIT` in a window they are answered 429 with `Retry-After` instead of
 * 401. Every check of the admin token (admin API, dashboard, `/metrics`) goes through here, so all count in the
 * same limit.
 */
@Injectable()
export class AdminAuthService {
  private readonly logger = new Logger('AdminAuth');

  constructor(
    private readonly tokens: AdminTokenService,
    private readonly limiter: RateLimiter,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  async authenticate(req: Request): Promise<AdminPrincipal> {
    const token = bearerToken(req);
    if (this.tokens.matches(token)) return { admin: true };
    if (!token)
      throw new UnauthorizedError(
        'TOKEN_MISSING',
        'Send the admin token as "Authorization: Bearer <token>".',
      );
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
    if (result && !result.allowed) throw this.tooMany(result.resetMs);
    throw new UnauthorizedError('INVALID_ADMIN_TOKEN', 'The admin token is not valid.');
  }

  private tooMany(resetMs: number): RateLimitedError {
    const seconds = Math.max(1, Math.ceil(resetMs / 1000));
    return new RateLimitedError(
      `Too many failed admin logins from this address; wrong tokens are refused for ${seconds} s.`,
      { 'Retry-After': String(seconds) },
    );
  }
}

class AdminBearerStrategy extends Strategy {
  name = ADMIN_STRATEGY;

  constructor(private readonly verify: (req: Request, done: (err: unknown, user?: unknown) => void) => void) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (err, user) => {
      if (err) return this.error(err as Error);
      if (!user) return this.fail(401);
      return this.success(user);
    });
  }
}

@Injectable()
export class AdminTokenStrategy extends PassportStrategy(AdminBearerStrategy, ADMIN_STRATEGY) {
  constructor(private readonly service: AdminAuthService) {
    super();
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
    if (!user) throw new UnauthorizedError('INVALID_ADMIN_TOKEN', 'The admin token is not valid.');
    return user;
  }

  override canActivate(context: ExecutionContext) {
    context.switchToHttp().getRequest<AdminAuthRequest>()[REQUEST_ADMIN_AUTH] = this.service;
    return super.canActivate(context);
  }
}
