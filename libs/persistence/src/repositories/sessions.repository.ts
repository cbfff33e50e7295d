import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NewPendingSession, Session, SessionState, SessionStore } from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

/** The columns of a `Session`, named as its fields (the row is the record). */
export const SESSION_COLUMNS = `id, status, pairing_code AS "pairingCode", account_id AS "accountId",
  expires_at AS "expiresAt", paired_at AS "pairedAt", kakao_user_id AS "kakaoUserId",
  conversation_key AS "conversationKey"`;

/** The live-code index: a pending session already holds the code. */
const LIVE_CODE_INDEX = 'sessions_live_code_uq';

function isLiveCodeTaken(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, constraint } = e as { code?: string; constraint?: string };
  return code === '23505' && constraint === LIVE_CODE_INDEX;
}

/** `SessionStore` on PostgreSQL. */
@Injectable()
export class SessionsRepository implements SessionStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async createPending(input: NewPendingSession): Promise<Session | null> {
    try {
      return await queryRow<Session>(
        this.db,
        `INSERT INTO sessions (token_hash, pairing_code, expires_at, account_id, status)
         VALUES ($1, $2, $3, $4, 'pending_pairing')
         RETURNING ${SESSION_COLUMNS}`,
        [input.tokenHash, input.pairingCode, input.expiresAt, input.accountId],
      );
    } catch (e) {
      if (isLiveCodeTaken(e)) return null;
      throw e;
    }
  }

  findByTokenHash(tokenHash: string): Promise<Session | null> {
    return queryRow<Session>(this.db, `SELECT ${SESSION_COLUMNS} FROM sessions WHERE token_hash = $1`, [
      tokenHash,
    ]);
  }

  findById(id: string): Promise<Session | null> {
    return queryRow<Session>(this.db, `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id]);
  }

  async findStates(ids: readonly string[]): Promise<Map<string, SessionState>> {
    if (ids.length === 0) return new Map();
    const rows = await queryRows<SessionState & { id: string }>(
      this.db,
      `SELECT id, status, expires_at AS "expiresAt", account_id AS "accountId", kakao_user_id AS "kakaoUserId",
              conversation_key AS "conversationKey", paired_at AS "pairedAt"
         FROM sessions WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map(({ id, ...state }) => [id, state]));
  }

  async expireIfLapsed(id: string, now: Date): Promise<boolean> {
    const n = await affectedRows(
      this.db,
      `UPDATE sessions SET status = 'expired', ended_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'pending_pairing' AND expires_at <= $2`,
      [id, now],
    );
    return n > 0;
  }

  async expireLapsed(now: Date, limit: number): Promise<string[]> {
    // A materialised CTE: as `IN (SELECT … LIMIT … FOR UPDATE)` the sub-select may run again per row and the
    // limit would not hold.
    const rows = await queryRows<{ id: string }>(
      this.db,
      `WITH due AS MATERIALIZED (
         SELECT id FROM sessions WHERE status = 'pending_pairing' AND expires_at <= $1
          LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE sessions s SET status = 'expired', ended_at = now(), updated_at = now()
         FROM due WHERE s.id = due.id
       RETURNING s.id`,
      [now, limit],
    );
    return rows.map((r) => r.id);
  }

  async disconnect(id: string): Promise<boolean> {
    const n = await affectedRows(
      this.db,
      `UPDATE sessions SET status = 'disconnected', ended_at = now(), updated_at = now()
        WHERE id = $1 AND status IN ('pending_pairing', 'paired')`,
      [id],
    );
    return n > 0;
  }

  async deleteById(id: string): Promise<boolean> {
    return (await affectedRows(this.db, `DELETE FROM sessions WHERE id = $1`, [id])) > 0;
  }

  deleteEndedLongAgo(limit: number): Promise<number> {
    return affectedRows(
      this.db,
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE status IN ('expired', 'disconnected')
            AND coalesce(ended_at, updated_at) < now() - interval '1 day' LIMIT $1)`,
      [limit],
    );
  }
}
