import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { redisOptionsFromUrl, retryStrategy } from './redis-options';

// INCR the window counter, set its expiry on first use, return count and remaining TTL in one round trip.
const FIXED_WINDOW = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

/**
 * The process's two Redis connections: one shared command connection (fails fast while Redis is away, so
 * the request path never hangs on it) and one subscriber connection for all Pub/Sub of this process.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly command: Redis;
  readonly subscriber: Redis;
  readonly prefix: string;

  constructor(@Inject(RELAY_CONFIG) config: RelayConfig) {
    const base = redisOptionsFromUrl(config.redisUrl);
    this.prefix = config.redisPrefix;
    this.command = new Redis({
      ...base,
      connectionName: `${config.redisPrefix}:command`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Concurrent requests' commands (flood-guard script, PUBLISH) leave in one write per tick.
      enableAutoPipelining: true,
      connectTimeout: 2000,
      commandTimeout: 2000,
      retryStrategy,
    });
    this.subscriber = new Redis({
      ...base,
      connectionName: `${config.redisPrefix}:subscriber`,
      maxRetriesPerRequest: null,
      autoResubscribe: true,
      connectTimeout: 2000,
      retryStrategy,
    });
    this.command.defineCommand('relayFixedWindow', { numberOfKeys: 1, lua: FIXED_WINDOW });
    for (const [name, conn] of [
      ['command', this.command],
      ['subscriber', this.subscriber],
    ] as const) {
      let down = false;
      conn.on('error', (err: Error) => {
        if (!down) this.logger.warn(`redis ${name} connection error: ${err.message}`);
        down = true;
      });
      conn.on('ready', () => {
        if (down) this.logger.log(`redis ${name} connection is back`);
        down = false;
      });
    }
  }

  /** INCR a fixed-window counter (expiry set on first use); answers [count, remaining ms]. */
  fixedWindow(key: string, windowMs: number): Promise<[number, number]> {
    return (
      this.command as unknown as { relayFixedWindow(k: string, w: string): Promise<[number, number]> }
    ).relayFixedWindow(key, String(windowMs));
  }

  /** A key or channel name in the relay's namespace. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async ping(timeoutMs = 1000): Promise<void> {
    await Promise.race([
      this.command.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('redis ping timed out')), timeoutMs).unref(),
      ),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [this.subscriber, this.command].map((c) =>
        c.status === 'end' ? undefined : c.quit().catch(() => c.disconnect()),
      ),
    );
  }
}
