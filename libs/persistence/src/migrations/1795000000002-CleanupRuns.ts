import { MigrationInterface, QueryRunner } from 'typeorm';

/** One row per cleanup run (what it did), for the logs' twin in the admin overview. */
export class CleanupRuns1795000000002 implements MigrationInterface {
  name = 'CleanupRuns1795000000002';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cleanup_runs (
        id bigserial PRIMARY KEY,
        instance text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT now(),
        results jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX cleanup_runs_finished_idx ON cleanup_runs (finished_at DESC)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cleanup_runs`);
  }
}
