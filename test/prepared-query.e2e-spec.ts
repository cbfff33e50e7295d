import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../libs/persistence/src/database';
import { preparedQuery } from '../libs/persistence/src/prepared-query';
import { TEST_DATABASE_URL } from '@app/testing';

/** The named prepared statements of the hot path, against the real PostgreSQL. */
describe('preparedQuery (e2e, real PostgreSQL)', () => {
  let db: DataSource;

  beforeAll(async () => {
    // A pool of one connection, so that "the same connection" can be told by its backend pid.
    db = new DataSource(dataSourceOptions({ databaseUrl: TEST_DATABASE_URL, databasePoolSize: 1 }));
    await db.initialize();
    await db.query('DROP TABLE IF EXISTS prepared_probe');
    await db.query('CREATE TABLE prepared_probe (a int PRIMARY KEY)');
  });
  afterAll(async () => {
    await db.query('DROP TABLE IF EXISTS prepared_probe');
    await db.destroy();
  });

  const backend = async () =>
    (await preparedQuery<{ pid: number }>(db, 'probe_pid', 'SELECT pg_backend_pid() AS pid', [])).rows[0].pid;

  it('runs a statement with parameters and reports the rows it touched', async () => {
    const inserted = await preparedQuery(
      db,
      'probe_insert',
      'INSERT INTO prepared_probe (a) VALUES ($1), ($2)',
      [1, 2],
    );
    expect(inserted.rowCount).toBe(2);
    const { rows } = await preparedQuery<{ a: number }>(
      db,
      'probe_select',
      'SELECT * FROM prepared_probe WHERE a > $1 ORDER BY a',
      [0],
    );
    expect(rows).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('keeps the connection (and its prepared statements) after a statement error', async () => {
    const before = await backend();
    await expect(
      preparedQuery(db, 'probe_insert', 'INSERT INTO prepared_probe (a) VALUES ($1), ($2)', [1, 3]),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await backend()).toBe(before);
  });

  it('survives a schema change under a prepared statement, then replaces that connection', async () => {
    const before = await backend();
    await db.query('ALTER TABLE prepared_probe ADD COLUMN b int DEFAULT 7');
    // The cached plan of "SELECT *" now has the wrong result type (0A000): run unprepared instead.
    const { rows } = await preparedQuery<{ a: number; b: number }>(
      db,
      'probe_select',
      'SELECT * FROM prepared_probe WHERE a > $1 ORDER BY a',
      [0],
    );
    expect(rows).toEqual([
      { a: 1, b: 7 },
      { a: 2, b: 7 },
    ]);
    expect(await backend()).not.toBe(before);
    const again = await preparedQuery<{ a: number; b: number }>(
      db,
      'probe_select',
      'SELECT * FROM prepared_probe WHERE a > $1 ORDER BY a',
      [1],
    );
    expect(again.rows).toEqual([{ a: 2, b: 7 }]);
  });
});
