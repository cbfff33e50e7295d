import Redis from 'ioredis';
import { Client } from 'pg';
import { redisOptionsFromUrl } from '@app/messaging/redis-options';
import { assertTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL } from './test-config';

const TABLES = [
  'outbound_messages',
  'inbound_messages',
  'conversations',
  'sessions',
  'account_deliveries',
  'accounts',
  'cleanup_runs',
  'works_bots',
  'works_sends',
  'held_answers',
  'kakao_bots',
  'channel_events',
  'api_keys',
  'bot_bindings',
  'push_endpoints',
  'push_deliveries',
  'tunnel_requests',
  'tunnels',
];

/** Empties every table of the test database (schema and migrations stay). */
export async function truncateTables(url = TEST_DATABASE_URL): Promise<void> {
  assertTestDatabase(url);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await client.end();
  }
}

/** Empties the dedicated test Redis database index (never index 0). */
export async function flushTestRedis(url = TEST_REDIS_URL): Promise<void> {
  const options = redisOptionsFromUrl(url);
  if (!options.db) throw new Error('refusing to flush Redis database 0 in tests: use a dedicated index');
  const redis = new Redis({ ...options, maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}

export async function resetState(): Promise<void> {
  await Promise.all([truncateTables(), flushTestRedis()]);
}

/** A one-shot SQL helper for assertions (parameterised). */
export async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}
