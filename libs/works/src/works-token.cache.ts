import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { RedisService } from '@app/messaging';

/** A client app's access token as shared by the replicas. */
export interface CachedWorksToken {
  token: string;
  /** When it was issued and when Works stops accepting it (ms since the epoch, the relay's clock). */
  issuedAt: number;
  expiresAt: number;
}

/**
 * Where the access tokens live between replicas, and the lock that lets one replica at a time renew a client
 * app's token. Keys are digests of the client id, never the token.
 */
export abstract class WorksTokenCache {
  abstract get(key: string): Promise<CachedWorksToken | null>;
  abstract put(key: string, entry: CachedWorksToken, ttlMs: number): Promise<void>;
  /** Deletes the entry only while it still holds `token` (a 401 invalidates the token that failed, not a newer one). */
  abstract deleteIf(key: string, token: string): Promise<void>;
  /** Takes the renewal lock for `ttlMs`; the lock's own value, or null when another holder has it. */
  abstract tryLock(key: string, ttlMs: number): Promise<string | null>;
  abstract unlock(key: string, lock: string): Promise<void>;
}

const DELETE_IF_TOKEN = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The cache in Redis (the relay's command connection and key prefix). */
@Injectable()
export class RedisWorksTokenCache extends WorksTokenCache {
  constructor(private readonly redis: RedisService) {
    super();
  }

  private tokenKey(key: string): string {
    return this.redis.key('works', 'token', key);
  }

  private lockKey(key: string): string {
    return this.redis.key('works', 'token-lock', key);
  }

  async get(key: string): Promise<CachedWorksToken | null> {
    const raw = await this.redis.command.get(this.tokenKey(key));
    return raw ? (JSON.parse(raw) as CachedWorksToken) : null;
  }

  async put(key: string, entry: CachedWorksToken, ttlMs: number): Promise<void> {
    await this.redis.command.set(
      this.tokenKey(key),
      JSON.stringify(entry),
      'PX',
      Math.max(1, Math.floor(ttlMs)),
    );
  }

  async deleteIf(key: string, token: string): Promise<void> {
    await this.redis.command.eval(DELETE_IF_TOKEN, 1, this.tokenKey(key), token);
  }

  async tryLock(key: string, ttlMs: number): Promise<string | null> {
    const value = randomBytes(12).toString('hex');
    const ok = await this.redis.command.set(this.lockKey(key), value, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? value : null;
  }

  async unlock(key: string, lock: string): Promise<void> {
    await this.redis.command.eval(UNLOCK, 1, this.lockKey(key), lock);
  }
}
