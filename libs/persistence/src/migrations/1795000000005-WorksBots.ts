import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registered Naver Works bots (works-channel.md §4). Secrets are stored sealed by `SecretBox`
 * (AES-256-GCM under `RELAY_SECRETS_KEY`), never in clear. The id (UUIDv7, made by the relay) orders the
 * admin list with `created_at`; bots are named by `bot_id`. Messages do not reference this table: deleting a bot
 * keeps its messages until retention removes them.
 */
export class WorksBots1795000000005 implements MigrationInterface {
  name = 'WorksBots1795000000005';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE works_bots (
        id uuid PRIMARY KEY,
        bot_id text NOT NULL,
        name text,
        enabled boolean NOT NULL DEFAULT true,
        bot_secret_sealed text NOT NULL,
        client_id text NOT NULL,
        client_secret_sealed text NOT NULL,
        service_account text NOT NULL,
        private_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT works_bots_bot_id_key UNIQUE (bot_id)
      )`);
    await q.query(`CREATE INDEX works_bots_created_idx ON works_bots (created_at DESC, id DESC)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE works_bots`);
  }
}
