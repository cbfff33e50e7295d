import { parseConfig, RelayConfig } from '@app/config/relay-config';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/kakao_relay_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const TEST_REDIS_PREFIX = process.env.TEST_REDIS_PREFIX ?? 'kakao-relay-test';

/** Refuses to let a test suite touch a database whose name does not say it is for tests. */
export function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!name.includes('test')) {
    throw new Error(`refusing to run tests against database "${name}": its name must contain "test"`);
  }
}

/**
 * Abuse limits raised for suites that are not about limits: they drive hundreds of requests from one address
 * (127.0.0.1). The limit tests set their own. Shared by in-process relays (`testConfig`) and spawned ones.
 */
export const RAISED_TEST_LIMITS: Readonly<Record<string, string>> = {
  WEBHOOK_USER_MESSAGES_PER_MINUTE: '100000',
  RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '100000',
  RATE_LIMIT_SESSION_STATUS_PER_MINUTE: '100000',
  RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE: '100000',
  MAX_STREAMS_PER_IP: '100000',
};

/** Test configuration: the test database and Redis index, quiet logs, any port; env-style overrides. */
export function testConfig(overrides: Record<string, string> = {}): RelayConfig {
  assertTestDatabase(overrides.DATABASE_URL ?? TEST_DATABASE_URL);
  return parseConfig({
    PORT: '0',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: TEST_REDIS_PREFIX,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_POOL_SIZE: '10',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...RAISED_TEST_LIMITS,
    ...overrides,
  });
}
