import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A message's push delivery no longer stores its body: the body is a rendering of the `inbound_messages` row
 * (rendered again for a retry or a redelivery, with the delivery's `created_at` as its timestamp), and the copy
 * cost ~2 KB of escaped JSON per delivery on the live path. Every other delivery still stores its body. Rows
 * stored before keep theirs.
 */
export class PushBodiesOnce1795000000013 implements MigrationInterface {
  name = 'PushBodiesOnce1795000000013';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE push_deliveries ALTER COLUMN body DROP NOT NULL`);
    await q.query(`
      ALTER TABLE push_deliveries
        ADD CONSTRAINT push_deliveries_body_or_message CHECK (body IS NOT NULL OR message_id IS NOT NULL)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    // The bodies left out cannot be rendered in SQL; their deliveries (all of messages) are dropped, as the
    // message sweep would make again any that a message still lacks.
    await q.query(`DELETE FROM push_deliveries WHERE body IS NULL`);
    await q.query(`ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_body_or_message`);
    await q.query(`ALTER TABLE push_deliveries ALTER COLUMN body SET NOT NULL`);
  }
}
