import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery is recorded per account as a high-water mark (the highest sequence number written to one of its
 * streams) instead of rewriting each message row: streams write an account's messages in sequence order, so
 * "delivered" is exactly "still queued and at or below the mark". The mark is seeded from the rows marked
 * `delivered` so far; those rows keep their status (no rewrite of the table). `inbound_message_states` is the
 * read model with the derived status.
 */
export class DeliveryMarks1795000000003 implements MigrationInterface {
  name = 'DeliveryMarks1795000000003';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_deliveries (
        account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
        delivered_seq bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO account_deliveries (account_id, delivered_seq)
      SELECT account_id, max(seq) FROM inbound_messages WHERE status = 'delivered' GROUP BY account_id`);
    await q.query(`
      CREATE VIEW inbound_message_states AS
      SELECT m.id, m.account_id, m.seq, m.conversation_key, m.normalized, m.callback_url, m.reply_deadline,
             CASE WHEN m.status = 'queued' AND m.seq <= coalesce(d.delivered_seq, 0) THEN 'delivered'
                  ELSE m.status END AS status,
             m.delivered_at, m.replied_at, m.created_at
        FROM inbound_messages m
        LEFT JOIN account_deliveries d ON d.account_id = m.account_id`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW inbound_message_states`);
    await q.query(`
      UPDATE inbound_messages m SET status = 'delivered'
        FROM account_deliveries d
       WHERE d.account_id = m.account_id AND m.status = 'queued' AND m.seq <= d.delivered_seq`);
    await q.query(`DROP TABLE account_deliveries`);
  }
}
