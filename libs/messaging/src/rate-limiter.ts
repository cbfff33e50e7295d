import { Injectable } from '@nestjs/common';
import { RedisService } from './redis.service';

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

// INCR the window counter, set its expiry on first use, return count and remaining TTL in one round trip.
const FIXED_WINDOW = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

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
    const [count, ttl] = (await this.redis.command.eval(FIXED_WINDOW, 1, redisKey, String(windowMs))) as [
      number,
      number,
    ];
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetMs: Math.max(0, ttl),
    };
  }
}
