import { Client } from 'pg';
import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** Advisory-lock key that serialises migrations across replicas starting together ("kakao-relay" as int). */
export const MIGRATION_LOCK_KEY = 7_212_345_901;

export interface DatabaseSettings {
  databaseUrl: string;
  databasePoolSize: number;
}

export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    applicationName: 'kakao-relay',
    extra: {
      max: settings.databasePoolSize,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30000,
      // Keep a dead database from stalling a request forever.
      statement_timeout: 10000,
      query_timeout: 12000,
    },
  };
}

function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL must name a database');
  return name;
}

function isPgError(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as { code?: string }).code ?? '');
}

/**
 * Creates the database named in the URL when it does not exist yet. Safe when several processes race:
 * a concurrent CREATE DATABASE that loses is treated as success.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const probe = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return false;
  } catch (e) {
    if (!isPgError(e, '3D000')) throw e; // 3D000 invalid_catalog_name: the database does not exist
  } finally {
    await probe.end().catch(() => undefined);
  }
  const name = databaseName(url);
  const maintenanceUrl = new URL(url);
  maintenanceUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: maintenanceUrl.toString(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
    return true;
  } catch (e) {
    // 42P04 duplicate_database; 23505 when two CREATE DATABASE statements collide on pg_database's index.
    if (isPgError(e, '42P04', '23505')) return false;
    throw e;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Runs pending migrations while holding a cluster-wide advisory lock, so replicas never race. */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // On the connection that holds the lock: with DATABASE_POOL_SIZE=1 there is no second one to wait for.
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Creates the database if needed, connects, and brings the schema up to date. */
export async function openDatabase(settings: DatabaseSettings, options?: Partial<DataSourceOptions>) {
  await ensureDatabase(settings.databaseUrl);
  const dataSource = new DataSource({ ...dataSourceOptions(settings), ...options } as DataSourceOptions);
  await dataSource.initialize();
  try {
    await runMigrationsLocked(dataSource);
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
  return dataSource;
}
