// Jest's globalSetup runs outside moduleNameMapper: resolve the @app/* aliases the libraries use.
import './support/app-aliases';
import { DataSource } from 'typeorm';
import { dataSourceOptions, ensureDatabase, runMigrationsLocked } from '@app/persistence/database';
import { assertTestDatabase, TEST_DATABASE_URL } from '@app/testing/test-config';
import { flushTestRedis } from '@app/testing/test-state';

/** Creates the test database and schema once per run, and starts from an empty Redis test index. */
export default async function globalSetup(): Promise<void> {
  assertTestDatabase(TEST_DATABASE_URL);
  await ensureDatabase(TEST_DATABASE_URL);
  const ds = await new DataSource(
    dataSourceOptions({ databaseUrl: TEST_DATABASE_URL, databasePoolSize: 2 }),
  ).initialize();
  try {
    await runMigrationsLocked(ds);
  } finally {
    await ds.destroy();
  }
  await flushTestRedis();
}
