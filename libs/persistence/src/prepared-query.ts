import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { isDatabaseUnavailable } from './availability';

interface PgClient {
  query(config: {
    name?: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * Runs a statement of the hot path as a named prepared statement on a connection of the data source's pool:
 * PostgreSQL parses and plans it once per connection instead of once per call (for the batch insert, planning
 * was ~0.36 ms of PostgreSQL CPU per statement against ~0.07 ms to run it). `name` must be unique per `text`.
 * A plan invalidated by a schema change under a running replica (0A000 "cached plan must not change result
 * type") is answered by running the statement unprepared, and that connection is replaced. Connection errors drop the connection from the
 * pool; statement errors (a unique violation…) keep it, with its prepared statements.
 */
export async function preparedQuery<T>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<{ rows: T[]; rowCount: number }> {
  const driver = dataSource.driver as PostgresDriver;
  const [client, release] = (await driver.obtainMasterConnection()) as [PgClient, (err?: unknown) => void];
  try {
    let result: { rows: unknown[]; rowCount: number | null };
    let stale: unknown;
    try {
      result = await client.query({ name, text, values });
    } catch (e) {
      if ((e as { code?: unknown }).code !== '0A000') throw e;
      result = await client.query({ text, values });
      stale = e; // the connection keeps the stale statement: let the pool replace it
    }
    release(stale);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  } catch (e) {
    release(isDatabaseUnavailable(e) ? e : undefined);
    throw e;
  }
}
