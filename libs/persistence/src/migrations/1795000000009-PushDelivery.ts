import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Push delivery (server-mode §2): one endpoint per account (URL, events filter, signing secret and, during a
 * rotation, the previous one until it lapses; a cursor of the account's message sequence numbers the endpoint has
 * deliveries for), and one delivery per event and endpoint, unique by `webhook_id`, with its attempts.
 */
export class PushDelivery1795000000009 implements MigrationInterface {
  name = 'PushDelivery1795000000009';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE push_endpoints (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[] NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_until timestamptz,
        message_cursor bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE push_deliveries (
        id uuid PRIMARY KEY,
        endpoint_id uuid NOT NULL REFERENCES push_endpoints (id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        webhook_id text NOT NULL,
        event_type text NOT NULL,
        seq bigint,
        message_id uuid REFERENCES inbound_messages (id) ON DELETE CASCADE,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_http_status integer,
        last_error text,
        latency_ms integer,
        reply_error text,
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        UNIQUE (endpoint_id, webhook_id)
      )`);
    await q.query(
      `CREATE INDEX push_deliveries_pending ON push_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX push_deliveries_list ON push_deliveries (created_at DESC, id DESC)`);
    await q.query(
      `CREATE INDEX push_deliveries_account ON push_deliveries (account_id, created_at DESC, id DESC)`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE push_deliveries`);
    await q.query(`DROP TABLE push_endpoints`);
  }
}
