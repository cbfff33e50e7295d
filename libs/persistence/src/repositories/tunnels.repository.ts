import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  LiveRequestRecord,
  NewTunnel,
  Tunnel,
  TunnelCredential,
  TunnelPageWindow,
  TunnelRequestData,
  TunnelRequestLog,
  TunnelResponseData,
  TunnelStore,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const TUNNEL = `id, account_id AS "accountId", name, mode, created_at AS "createdAt",
  last_activity_at AS "lastActivityAt"`;
const LOG = `id, tunnel_id AS "tunnelId", method, path, status, state, latency_ms AS "latencyMs",
  size_bytes AS "sizeBytes", durable, created_at AS "createdAt", answered_at AS "answeredAt"`;

/** `TunnelStore` on PostgreSQL (`tunnels`, `tunnel_requests`). */
@Injectable()
export class TunnelsRepository implements TunnelStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  create(tunnel: NewTunnel, maxPerAccount: number): Promise<Tunnel | null> {
    return this.db.transaction(async (manager) => {
      if (tunnel.accountId) {
        // The account row lock serialises concurrent creations of one account, so the cap holds.
        await queryRow(manager, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, [tunnel.accountId]);
        const count = await queryRow<{ n: number }>(
          manager,
          `SELECT count(*)::int AS n FROM tunnels WHERE account_id = $1`,
          [tunnel.accountId],
        );
        if ((count?.n ?? 0) >= maxPerAccount) return null;
      }
      return queryRow<Tunnel>(
        manager,
        `INSERT INTO tunnels (id, account_id, name, mode, token_hash) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${TUNNEL}`,
        [tunnel.id, tunnel.accountId, tunnel.name, tunnel.mode, tunnel.tokenHash],
      );
    });
  }

  findById(id: string): Promise<Tunnel | null> {
    return queryRow<Tunnel>(this.db, `SELECT ${TUNNEL} FROM tunnels WHERE id = $1`, [id]);
  }

  findCredential(id: string): Promise<TunnelCredential | null> {
    return queryRow<TunnelCredential>(
      this.db,
      `SELECT ${TUNNEL}, token_hash AS "tokenHash" FROM tunnels WHERE id = $1`,
      [id],
    );
  }

  listForAccount(accountId: string): Promise<Tunnel[]> {
    return queryRows<Tunnel>(
      this.db,
      `SELECT ${TUNNEL} FROM tunnels WHERE account_id = $1 ORDER BY created_at DESC, id DESC`,
      [accountId],
    );
  }

  listAll(window: TunnelPageWindow): Promise<Tunnel[]> {
    return queryRows<Tunnel>(
      this.db,
      `SELECT ${TUNNEL} FROM tunnels
        WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [window.after?.createdAt ?? null, window.after?.id ?? null, window.take],
    );
  }

  async delete(id: string, accountId?: string): Promise<boolean> {
    const n = await affectedRows(
      this.db,
      `DELETE FROM tunnels WHERE id = $1 AND ($2::uuid IS NULL OR account_id = $2::uuid)`,
      [id, accountId ?? null],
    );
    return n > 0;
  }

  async touch(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await affectedRows(
      this.db,
      `UPDATE tunnels SET last_activity_at = now()
        WHERE id = ANY($1::uuid[]) AND last_activity_at < now() - interval '1 minute'`,
      [ids],
    );
  }

  async recordLive(records: readonly LiveRequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    await affectedRows(
      this.db,
      `INSERT INTO tunnel_requests (id, tunnel_id, method, path, durable, state, status, latency_ms, size_bytes,
         answered_at)
       SELECT r.id, r.tunnel_id, r.method, r.path, false, r.state, r.status, r.latency_ms, r.size_bytes, now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[])
              AS r (id, tunnel_id, method, path, state, status, latency_ms, size_bytes)
         JOIN tunnels t ON t.id = r.tunnel_id`,
      [
        records.map((r) => r.id),
        records.map((r) => r.tunnelId),
        records.map((r) => r.method),
        records.map((r) => r.path),
        records.map((r) => r.state),
        records.map((r) => r.status),
        records.map((r) => r.latencyMs),
        records.map((r) => r.sizeBytes),
      ],
    );
  }

  async storeDurable(tunnelId: string, request: TunnelRequestData): Promise<void> {
    await affectedRows(
      this.db,
      `INSERT INTO tunnel_requests (id, tunnel_id, method, path, durable, state, size_bytes, headers, body)
       VALUES ($1, $2, $3, $4, true, 'pending', $5, $6::jsonb, $7)`,
      [
        request.id,
        tunnelId,
        request.method,
        request.path,
        request.body.length,
        JSON.stringify(request.headers),
        request.body,
      ],
    );
  }

  nextPending(tunnelId: string): Promise<TunnelRequestData | null> {
    return queryRow<TunnelRequestData>(
      this.db,
      `SELECT id, method, path, headers, body FROM tunnel_requests
        WHERE tunnel_id = $1 AND state = 'pending' ORDER BY seq LIMIT 1`,
      [tunnelId],
    );
  }

  async recordAnswer(id: string, response: TunnelResponseData): Promise<void> {
    await affectedRows(
      this.db,
      `UPDATE tunnel_requests SET state = 'answered', status = $2, response_headers = $3::jsonb,
         response_body = $4, answered_at = now(),
         latency_ms = LEAST(2147483647, (extract(epoch FROM now() - created_at) * 1000)::bigint)
        WHERE id = $1 AND state = 'pending'`,
      [id, response.status, JSON.stringify(response.headers), response.body],
    );
  }

  replay(tunnelId: string, requestId: string, newId: string): Promise<TunnelRequestLog | null> {
    return queryRow<TunnelRequestLog>(
      this.db,
      `INSERT INTO tunnel_requests (id, tunnel_id, method, path, durable, state, size_bytes, headers, body)
       SELECT $3, tunnel_id, method, path, true, 'pending', size_bytes, headers, body FROM tunnel_requests
        WHERE id = $2 AND tunnel_id = $1 AND durable AND body IS NOT NULL
       RETURNING ${LOG}`,
      [tunnelId, requestId, newId],
    );
  }

  listRequests(tunnelId: string, window: TunnelPageWindow): Promise<TunnelRequestLog[]> {
    return queryRows<TunnelRequestLog>(
      this.db,
      `SELECT ${LOG} FROM tunnel_requests
        WHERE tunnel_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [tunnelId, window.after?.createdAt ?? null, window.after?.id ?? null, window.take],
    );
  }

  deleteOldRequests(retentionHours: number, batch: number): Promise<number> {
    return affectedRows(
      this.db,
      `DELETE FROM tunnel_requests WHERE id IN (
         SELECT id FROM tunnel_requests WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)`,
      [retentionHours, batch],
    );
  }

  deleteIdle(idleDays: number, connected: readonly string[], batch: number): Promise<number> {
    return affectedRows(
      this.db,
      `DELETE FROM tunnels WHERE id IN (
         SELECT id FROM tunnels WHERE last_activity_at < now() - make_interval(days => $1)
            AND NOT (id = ANY($2::uuid[])) LIMIT $3)`,
      [idleDays, connected, batch],
    );
  }
}
