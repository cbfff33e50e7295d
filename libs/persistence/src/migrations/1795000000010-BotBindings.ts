import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bot bindings (server-mode.md §3): a whole Kakao or Works bot bound to one account, with its policy (`pairing`,
 * `open`, `allowlist`) and, for `allowlist`, the user ids let through (at most 10,000 of at most 256 characters,
 * checked by the admin API). One binding per bot; deleting the account deletes its bindings. The id (UUIDv7, made
 * by the relay) orders the admin list with `created_at`.
 */
export class BotBindings1795000000010 implements MigrationInterface {
  name = 'BotBindings1795000000010';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bot_bindings (
        id uuid PRIMARY KEY,
        channel text NOT NULL CHECK (channel IN ('kakao', 'works')),
        bot_id text NOT NULL,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        policy text NOT NULL CHECK (policy IN ('pairing', 'open', 'allowlist')),
        allowlist text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bot_bindings_bot_key UNIQUE (channel, bot_id)
      )`);
    await q.query(`CREATE INDEX bot_bindings_created_idx ON bot_bindings (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX bot_bindings_account_idx ON bot_bindings (account_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE bot_bindings`);
  }
}
