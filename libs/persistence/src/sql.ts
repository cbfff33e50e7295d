/** Anything that runs a raw statement: a DataSource, an EntityManager (in a transaction), a Repository. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * TypeORM's `query()` on PostgreSQL answers SELECT and INSERT with the rows, but UPDATE and DELETE with
 * `[rows, affectedCount]`. Every raw statement of the repositories goes through the three helpers below, so
 * no repository unwraps that by hand.
 */
function unwrap(result: unknown): { rows: unknown[]; count: number } {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return { rows: result[0], count: result[1] };
  }
  const rows = Array.isArray(result) ? result : [];
  return { rows, count: rows.length };
}

/** The rows of a SELECT, or of an INSERT/UPDATE/DELETE … RETURNING. */
export async function queryRows<T>(db: Queryable, sql: string, parameters: unknown[] = []): Promise<T[]> {
  return unwrap(await db.query(sql, parameters)).rows as T[];
}

/** The first row (or null) of a SELECT or a statement with RETURNING. */
export async function queryRow<T>(db: Queryable, sql: string, parameters: unknown[] = []): Promise<T | null> {
  const rows = await queryRows<T>(db, sql, parameters);
  return rows.length > 0 ? rows[0] : null;
}

/** How many rows an UPDATE or DELETE (without RETURNING) touched. */
export async function affectedRows(db: Queryable, sql: string, parameters: unknown[] = []): Promise<number> {
  return unwrap(await db.query(sql, parameters)).count;
}
