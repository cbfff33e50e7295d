import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisService } from './redis.service';

const TTL_MS = 15_000;

/**
 * How many agent streams each replica holds, in Redis keys that expire when a replica stops reporting — so the
 * admin overview can count the streams of the whole cluster.
 */
@Injectable()
export class StreamPresence {
  readonly instanceId = randomUUID();

  constructor(private readonly redis: RedisService) {}

  async report(count: number): Promise<void> {
    await this.redis.command.set(this.redis.key('streams', this.instanceId), String(count), 'PX', TTL_MS);
  }

  async withdraw(): Promise<void> {
    await this.redis.command.del(this.redis.key('streams', this.instanceId));
  }

  /** Sum over every replica that reported in the last 15 s. */
  async total(): Promise<{ streams: number; replicas: number }> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.command.scan(
        cursor,
        'MATCH',
        this.redis.key('streams', '*'),
        'COUNT',
        500,
      );
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return { streams: 0, replicas: 0 };
    const values = await this.redis.command.mget(...keys);
    return { streams: values.reduce((sum, v) => sum + Number(v ?? 0), 0), replicas: keys.length };
  }
}
