import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook tunnels (websocket.md §2): the tunnels (token stored as its SHA-256; `account_id` null for an anonymous
 * tunnel of `GET /new`) and one table for the request log and a durable tunnel's stored requests: every forwarded
 * request has a row (method, path, status, latency, size); only a durable request keeps its headers and body,
 * until the retention ends. `seq` is the arrival order a durable tunnel replays in.
 */
export class Tunnels1795000000012 implements MigrationInterface {
  name = 'Tunnels1795000000012';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tunnels (
        id uuid PRIMARY KEY,
        account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
        name text,
        mode text NOT NULL CHECK (mode IN ('live', 'durable')),
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_activity_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tunnels_account_idx ON tunnels (account_id, created_at DESC)`);
    await q.query(`CREATE INDEX tunnels_list_idx ON tunnels (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX tunnels_activity_idx ON tunnels (last_activity_at)`);
    await q.query(`
      CREATE TABLE tunnel_requests (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL,
        tunnel_id uuid NOT NULL REFERENCES tunnels (id) ON DELETE CASCADE,
        method text NOT NULL,
        path text NOT NULL,
        durable boolean NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'answered', 'failed')),
        status integer,
        latency_ms integer,
        size_bytes integer NOT NULL,
        headers jsonb,
        body bytea,
        response_headers jsonb,
        response_body bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        answered_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX tunnel_requests_log_idx ON tunnel_requests (tunnel_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX tunnel_requests_pending_idx ON tunnel_requests (tunnel_id, seq) WHERE state = 'pending'`,
    );
    await q.query(`CREATE INDEX tunnel_requests_created_idx ON tunnel_requests (created_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tunnel_requests`);
    await q.query(`DROP TABLE tunnels`);
  }
}
