import { MigrationInterface, QueryRunner } from 'typeorm';

/** The send job claims an outbound row before sending, so no reply can be accepted into a send in flight. */
export class OutboundClaim1795000000001 implements MigrationInterface {
  name = 'OutboundClaim1795000000001';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbound_messages ADD COLUMN claimed_at timestamptz`);
    // The sweeper that re-queues sends whose job was lost (Redis outage) looks for due pending rows.
    await q.query(
      `CREATE INDEX outbound_pending_due_idx ON outbound_messages (send_after) WHERE status = 'pending'`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX outbound_pending_due_idx`);
    await q.query(`ALTER TABLE outbound_messages DROP COLUMN claimed_at`);
  }
}
