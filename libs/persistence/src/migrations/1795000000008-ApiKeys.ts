import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Server mode §1: the accounts' API keys and the relay-wide settings (the JWT signing key when `JWT_SECRET` is
 * not set). A key's secret is stored only as its SHA-256 (secrets are 32 random bytes, so a fast hash is
 * enough); a revoked key is deleted, and an account's keys go with it (ON DELETE CASCADE).
 */
export class ApiKeys1795000000008 implements MigrationInterface {
  name = 'ApiKeys1795000000008';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        api_key text NOT NULL,
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CONSTRAINT api_keys_api_key_key UNIQUE (api_key)
      )`);
    await q.query(`CREATE INDEX api_keys_account_idx ON api_keys (account_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE relay_settings (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relay_settings`);
    await q.query(`DROP TABLE api_keys`);
  }
}
