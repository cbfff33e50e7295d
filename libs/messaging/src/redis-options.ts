import type { RedisOptions } from 'ioredis';

/** ioredis options from a redis:// or rediss:// URL (host, port, database index, credentials, TLS). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    db: Number.isFinite(db) ? db : 0,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Reconnect forever with a capped backoff: Redis coming back must heal the relay by itself. */
export function retryStrategy(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 6), 2000);
}
