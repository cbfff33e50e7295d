import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages remember the messenger they came from (works-channel.md §1): `channel`, `'kakao'` for every row so far
 * (a constant default: PostgreSQL adds the column without rewriting the table). The request body stays in
 * `kakao_payload`, which from now on holds the original body of any channel: renaming it to `payload` would make
 * the insert of a replica of the previous release fail until it is replaced, and the upgrade is rolling
 * (docs/operations.md). The rename belongs to a later release, once no replica reads the old name.
 */
export class Channels1795000000004 implements MigrationInterface {
  name = 'Channels1795000000004';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_messages ADD COLUMN channel text NOT NULL DEFAULT 'kakao'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_messages DROP COLUMN channel`);
  }
}
