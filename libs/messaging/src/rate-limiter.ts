import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RedisService } from './redis.service';

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

const BUCKET = /^[a-z0-9-]{1,40}$/;

/**
 * The Redis key part of a limit key: the first 128 bits of its SHA-256 in hex. Limit keys are client input
 * (a Kakao user key, an address, a token); hashed here, no caller can put raw input into a Redis key (its size
 * and its content stay the client's), and a token never sits in Redis as itself.
 */
export function limitKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);
}

/**
 * Fixed-window counters in Redis, so a limit holds across every replica. The key is hashed (`limitKeyDigest`);
 * the bucket is a fixed name chosen by the code. Keys are namespaced by the relay's Redis prefix:
 * `<prefix>:rl:<bucket>:<digest>`.
 */
@Injectable()
export class RateLimiter {
  constructor(private readonly redis: RedisService) {}

  /** The current count of a window without adding to it. */
  async count(bucket: string, key: string): Promise<number> {
    const value = await this.redis.command.get(this.redisKey(bucket, key));
    return value ? Number(value) : 0;
  }

  async hit(bucket: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    // EVALSHA of the cached script (ioredis falls back to EVAL once if Redis lost it).
    const [count, ttl] = await this.redis.fixedWindow(this.redisKey(bucket, key), windowMs);
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetMs: Math.max(0, ttl),
    };
  }

  private redisKey(bucket: string, key: string): string {
    if (!BUCKET.test(bucket)) throw new Error(`rate-limit bucket names are fixed words, got "${bucket}"`);
    return this.redis.key('rl', bucket, limitKeyDigest(key));
  }
}
