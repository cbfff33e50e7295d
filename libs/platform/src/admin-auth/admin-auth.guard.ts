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
/** Failed admin logins allowed per IP per window before further attempts get 429. */
export const ADMIN_FAILURE_LIMIT = 10;
export const ADMIN_FAILURE_WINDOW_MS = 5 * 60 * 1000;

export interface AdminPrincipal {
  admin: true;
}

/** See AgentAuthGuard: the guard hands its own application's service to the process-wide strategy. */
const REQUEST_ADMIN_AUTH = Symbol('admin-auth');
type AdminAuthRequest = Request & { [REQUEST_ADMIN_AUTH]?: AdminAuthService };

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. Failed attempts are counted per IP in Redis
 * (so across replicas); past the limit every attempt from that IP is 429 until the window ends.
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
    const ip = clientIp(req, this.config.trustProxy);
    const token = bearerToken(req);
    let failures = 0;
    try {
      failures = await this.limiter.count('admin-auth-failures', ip);
    } catch (e) {
      this.logger.warn(`admin failure counter unavailable: ${(e as Error).message}`);
    }
    if (failures >= ADMIN_FAILURE_LIMIT) throw this.tooMany();
    if (this.tokens.matches(token)) return { admin: true };
    if (!token)
      throw new UnauthorizedError(
        'TOKEN_MISSING',
        'Send the admin token as "Authorization: Bearer <token>".',
      );
    try {
      const result = await this.limiter.hit(
        'admin-auth-failures',
        ip,
        ADMIN_FAILURE_LIMIT,
        ADMIN_FAILURE_WINDOW_MS,
      );
      if (!result.allowed) throw this.tooMany(result.resetMs);
    } catch (e) {
      if (e instanceof RateLimitedError) throw e;
    }
    throw new UnauthorizedError('INVALID_ADMIN_TOKEN', 'The admin token is not valid.');
  }

  private tooMany(resetMs = ADMIN_FAILURE_WINDOW_MS): RateLimitedError {
    const seconds = Math.max(1, Math.ceil(resetMs / 1000));
    return new RateLimitedError('Too many failed admin logins from this address; try again later.', {
      'Retry-After': String(seconds),
    });
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
