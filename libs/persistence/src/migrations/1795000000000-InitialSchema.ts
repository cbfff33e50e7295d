import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795000000000 implements MigrationInterface {
  name = 'InitialSchema1795000000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        relay_token_hash char(64),
        last_seq bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX accounts_relay_token_hash_uq ON accounts (relay_token_hash) WHERE relay_token_hash IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash char(64) NOT NULL,
        pairing_code varchar(8) NOT NULL,
        status varchar(20) NOT NULL
          CONSTRAINT sessions_status_ck CHECK (status IN ('pending_pairing', 'paired', 'expired', 'disconnected')),
        account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        paired_at timestamptz,
        kakao_user_id text,
        conversation_key text,
        ended_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX sessions_token_hash_uq ON sessions (token_hash)`);
    // A code is unique among live (pending) sessions only; spent codes may come round again.
    await q.query(
      `CREATE UNIQUE INDEX sessions_live_code_uq ON sessions (pairing_code) WHERE status = 'pending_pairing'`,
    );
    await q.query(`CREATE INDEX sessions_account_idx ON sessions (account_id)`);
    await q.query(`CREATE INDEX sessions_status_expires_idx ON sessions (status, expires_at)`);

    await q.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        conversation_key text NOT NULL,
        channel_id text NOT NULL,
        user_id text NOT NULL,
        account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
        state varchar(16) NOT NULL CONSTRAINT conversations_state_ck CHECK (state IN ('paired', 'unpaired')),
        paired_at timestamptz,
        unpaired_at timestamptz,
        last_message_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX conversations_key_uq ON conversations (conversation_key)`);
    await q.query(`CREATE INDEX conversations_account_state_idx ON conversations (account_id, state)`);

    await q.query(`
      CREATE TABLE inbound_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        conversation_key text NOT NULL,
        kakao_payload jsonb NOT NULL,
        normalized jsonb NOT NULL,
        callback_url text,
        reply_deadline timestamptz NOT NULL,
        status varchar(16) NOT NULL
          CONSTRAINT inbound_status_ck CHECK (status IN ('queued', 'delivered', 'replied', 'expired', 'failed')),
        delivered_at timestamptz,
        replied_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX inbound_account_seq_uq ON inbound_messages (account_id, seq)`);
    // Idempotency: the same Kakao request (same single-use callbackUrl) is stored once.
    await q.query(
      `CREATE UNIQUE INDEX inbound_callback_url_uq ON inbound_messages (callback_url) WHERE callback_url IS NOT NULL`,
    );
    // Replay on connect: undelivered / unanswered messages of one account, in sequence order.
    await q.query(
      `CREATE INDEX inbound_account_pending_idx ON inbound_messages (account_id, seq) WHERE status IN ('queued', 'delivered')`,
    );
    await q.query(
      `CREATE INDEX inbound_account_status_created_idx ON inbound_messages (account_id, status, created_at)`,
    );
    // Cleanup: expiry sweeps and retention deletes.
    await q.query(`CREATE INDEX inbound_status_created_idx ON inbound_messages (status, created_at)`);
    await q.query(`CREATE INDEX inbound_created_idx ON inbound_messages (created_at)`);

    await q.query(`
      CREATE TABLE outbound_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        inbound_message_id uuid NOT NULL REFERENCES inbound_messages (id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        mode varchar(8) NOT NULL CONSTRAINT outbound_mode_ck CHECK (mode IN ('callback', 'inline')),
        status varchar(16) NOT NULL CONSTRAINT outbound_status_ck CHECK (status IN ('pending', 'sent', 'failed')),
        replies jsonb NOT NULL DEFAULT '[]'::jsonb,
        response jsonb,
        attempts int NOT NULL DEFAULT 0,
        last_http_status int,
        error text,
        send_after timestamptz,
        sent_at timestamptz,
        failed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX outbound_inbound_uq ON outbound_messages (inbound_message_id)`);
    await q.query(
      `CREATE INDEX outbound_account_status_created_idx ON outbound_messages (account_id, status, created_at)`,
    );
    await q.query(`CREATE INDEX outbound_status_created_idx ON outbound_messages (status, created_at)`);
    await q.query(`CREATE INDEX outbound_created_idx ON outbound_messages (created_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbound_messages`);
    await q.query(`DROP TABLE inbound_messages`);
    await q.query(`DROP TABLE conversations`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP TABLE accounts`);
  }
}
