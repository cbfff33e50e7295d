import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the Naver Works callback needs (works-channel.md §2):
 * - `inbound_messages.dedupe_key`: Works retries a callback with the same body and `issuedTime` and has no
 *   callbackUrl to tell a repeat by; its adapter gives a digest of the bot and the raw body, unique like
 *   `callback_url` (a partial index: Kakao rows leave it null). The index is built in the migration's
 *   transaction: on a large table it holds inserts back for the time of one index build.
 * - `channel_events`: a messenger's events that are not messages (Works `join`, `leave`, `joined`, `left`),
 *   recorded for the operator, never streamed; removed with the messages by retention.
 * - `works_sends.account_id` may be null: the pairing hint and a command's answer go to a conversation that no
 *   account holds.
 */
export class WorksCallbacks1795000000007 implements MigrationInterface {
  name = 'WorksCallbacks1795000000007';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_messages ADD COLUMN dedupe_key text`);
    await q.query(
      `CREATE UNIQUE INDEX inbound_dedupe_key_uq ON inbound_messages (dedupe_key) WHERE dedupe_key IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE channel_events (
        id uuid PRIMARY KEY,
        channel text NOT NULL,
        conversation_key text NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        dedupe_key text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX channel_events_created ON channel_events (created_at)`);
    await q.query(`ALTER TABLE works_sends ALTER COLUMN account_id DROP NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX channel_events_dedupe_uq ON channel_events (dedupe_key) WHERE dedupe_key IS NOT NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM works_sends WHERE account_id IS NULL`);
    await q.query(`ALTER TABLE works_sends ALTER COLUMN account_id SET NOT NULL`);
    await q.query(`DROP TABLE channel_events`);
    await q.query(`DROP INDEX inbound_dedupe_key_uq`);
    await q.query(`ALTER TABLE inbound_messages DROP COLUMN dedupe_key`);
  }
}
