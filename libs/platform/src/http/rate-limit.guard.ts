import { CanActivate, ExecutionContext, Inject, Injectable, Logger, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { RateLimitedError } from '@app/core';
import { RateLimiter } from '@app/messaging';
import { bearerToken, clientIp, queryToken } from './request-credentials';

export type RateLimitKey = 'ip' | 'account' | 'token';

export interface RateLimitRule {
  /** Names the counter (several routes may share one). */
  bucket: string;
  limit: number | ((config: RelayConfig) => number);
  windowMs: number;
  key: RateLimitKey;
}

const RATE_LIMIT_RULE = 'kakao-relay:rate-limit';

/**
 * Redis-backed fixed-window limit, so it holds across replicas. Sets `X-RateLimit-Limit/Remaining/Reset` on every
 * answer and `Retry-After` on 429. The route lists `RateLimitGuard` in its `@UseGuards`, after the auth guard
 * when the key is the account.
 */
export const RateLimit = (rule: RateLimitRule) => SetMetadata(RATE_LIMIT_RULE, rule);

@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger('RateLimit');

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.get<RateLimitRule | undefined>(RATE_LIMIT_RULE, context.getHandler());
    if (!rule) return true;
    const req = context.switchToHttp().getRequest<Request & { user?: { accountId?: string | null } }>();
    const res = context.switchToHttp().getResponse<Response>();
    const key = this.keyOf(rule.key, req);
    if (key === null) return true;
    const headers = await this.enforce(rule, key);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return true;
  }

  /**
   * Counts one hit of `rule` for `key` (what `keyOf` would pick for a request): the `X-RateLimit-*` headers of
   * the answer, or `RateLimitedError` (429 with `Retry-After`) past the limit. For the routes that are not Nest
   * handlers (WebSocket upgrades and frames) as for the guard. Fails open while Redis is away (logged).
   */
  async enforce(rule: RateLimitRule, key: string): Promise<Record<string, string>> {
    const limit = typeof rule.limit === 'function' ? rule.limit(this.config) : rule.limit;
    let result;
    try {
      result = await this.limiter.hit(rule.bucket, key, limit, rule.windowMs);
    } catch (e) {
      // Redis away: serve rather than refuse (logged); the limits are abuse guards, not correctness.
      this.logger.warn(`rate limit ${rule.bucket} unavailable: ${(e as Error).message}`);
      return {};
    }
    const resetSeconds = Math.ceil(result.resetMs / 1000);
    const headers: Record<string, string> = {
      'X-RateLimit-Limit': String(result.limit),
      'X-RateLimit-Remaining': String(result.remaining),
      'X-RateLimit-Reset': String(resetSeconds),
    };
    if (!result.allowed) {
      throw new RateLimitedError(`Too many requests; try again in ${resetSeconds} s.`, {
        ...headers,
        'Retry-After': String(Math.max(1, resetSeconds)),
      });
    }
    return headers;
  }

  private keyOf(kind: RateLimitKey, req: Request & { user?: { accountId?: string | null } }): string | null {
    switch (kind) {
      case 'ip':
        return clientIp(req, this.config.trustProxy);
      case 'account':
        return req.user?.accountId ?? null;
      case 'token': {
        // A malformed Authorization header still counts (under its own value), so it cannot dodge the limit.
        // The limiter hashes every key: no token reaches Redis.
        return bearerToken(req) ?? queryToken(req) ?? req.headers.authorization ?? null;
      }
    }
  }
}
