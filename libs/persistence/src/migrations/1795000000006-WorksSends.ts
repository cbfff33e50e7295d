import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Naver Works send path's record (works-channel.md §3): one row per Works message, ordered per
 * conversation by `seq`, with the outcome of its attempts. Not `outbound_messages`: that table is one coalesced
 * reply per inbound message with a callback deadline, while a Works send has no deadline, may answer no inbound
 * message (pairing hint), and is one row per message sent.
 */
export class WorksSends1795000000006 implements MigrationInterface {
  name = 'WorksSends1795000000006';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE works_sends (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        inbound_message_id uuid REFERENCES inbound_messages (id) ON DELETE CASCADE,
        bot_id text NOT NULL,
        conversation_key text NOT NULL,
        target_kind text NOT NULL CHECK (target_kind IN ('user', 'channel')),
        target_id text NOT NULL,
        seq bigint NOT NULL,
        content jsonb NOT NULL,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_http_status integer,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        UNIQUE (conversation_key, seq)
      )`);
    await q.query(`
      CREATE INDEX works_sends_unfinished ON works_sends (conversation_key, seq)
       WHERE status IN ('queued', 'retrying')`);
    await q.query(`CREATE INDEX works_sends_account ON works_sends (account_id, created_at)`);
    await q.query(
      `CREATE INDEX works_sends_inbound ON works_sends (inbound_message_id) WHERE inbound_message_id IS NOT NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE works_sends`);
  }
}
