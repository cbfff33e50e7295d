import { Injectable } from '@nestjs/common';
import { RedisService } from './redis.service';

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/**
 * Fixed-window counters in Redis, so a limit holds across every replica. A limit keyed by a client-controlled
 * value must hash or bound that value first; keys are namespaced by the relay's Redis prefix.
 */
@Injectable()
export class RateLimiter {
  constructor(private readonly redis: RedisService) {}

  /** The current count of a window without adding to it. */
  async count(bucket: string, key: string): Promise<number> {
    const value = await this.redis.command.get(this.redis.key('rl', bucket, key));
    return value ? Number(value) : 0;
  }

  async hit(bucket: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const redisKey = this.redis.key('rl', bucket, key);
    // EVALSHA of the cached script (ioredis falls back to EVAL once if Redis lost it).
    const [count, ttl] = await this.redis.fixedWindow(redisKey, windowMs);
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetMs: Math.max(0, ttl),
    };
  }
}
