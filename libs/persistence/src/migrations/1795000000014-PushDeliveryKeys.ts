import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A push delivery keeps one foreign key, its endpoint's (ON DELETE CASCADE), and drops those to its account and its
 * message. Each key is checked by a query of its own for every row inserted, and the live path inserts a row per
 * delivery: the three checks were more than half of what PostgreSQL spent on an insert (12,000 rows in batches of
 * 50: 135 ms with no key, 180 ms with the endpoint's, 305 ms with all three).
 *
 * Nothing they did is lost. The account's key only repeated the endpoint's: an endpoint is its account's (one per
 * account, deleted with it), so an account's deliveries go with its endpoint. The message's key deleted a message's
 * deliveries with it at the retention, one unindexed scan of `push_deliveries` per message deleted; the retention
 * now deletes the deliveries as old as the messages itself (`CleanupRepository.deleteOldMessages`), by the
 * `created_at` index. A delivery whose message is gone before it is sent fails ("the message is gone").
 */
export class PushDeliveryKeys1795000000014 implements MigrationInterface {
  name = 'PushDeliveryKeys1795000000014';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_account_id_fkey`);
    await q.query(`ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_message_id_fkey`);
  }

  public async down(q: QueryRunner): Promise<void> {
    // Rows the keys would have removed (a message deleted since) go first, or the keys could not be added.
    await q.query(`
      DELETE FROM push_deliveries d
       WHERE d.message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.id = d.message_id)`);
    await q.query(`
      ALTER TABLE push_deliveries
        ADD CONSTRAINT push_deliveries_message_id_fkey
        FOREIGN KEY (message_id) REFERENCES inbound_messages (id) ON DELETE CASCADE`);
    await q.query(`
      ALTER TABLE push_deliveries
        ADD CONSTRAINT push_deliveries_account_id_fkey
        FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE`);
  }
}
