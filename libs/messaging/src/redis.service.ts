import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { redisOptionsFromUrl, retryStrategy } from './redis-options';

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
