import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account, AccountStore } from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const ACCOUNT_COLUMNS = `id, relay_token_hash AS "relayTokenHash", created_at AS "createdAt"`;

/** `AccountStore` on PostgreSQL. */
@Injectable()
export class AccountsRepository implements AccountStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  findById(id: string): Promise<Account | null> {
    return queryRow<Account>(this.db, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id]);
  }

  findByRelayTokenHash(relayTokenHash: string): Promise<Account | null> {
    return queryRow<Account>(this.db, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE relay_token_hash = $1`, [
      relayTokenHash,
    ]);
  }

  async findRelayTokenHashes(ids: readonly string[]): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const rows = await queryRows<{ id: string; relay_token_hash: string | null }>(
      this.db,
      `SELECT id, relay_token_hash FROM accounts WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.relay_token_hash]));
  }

  async setRelayTokenHash(id: string, relayTokenHash: string): Promise<boolean> {
    const n = await affectedRows(
      this.db,
      `UPDATE accounts SET relay_token_hash = $2, updated_at = now() WHERE id = $1`,
      [id, relayTokenHash],
    );
    return n > 0;
  }

  deleteWithSessions(id: string): Promise<{ deleted: boolean; sessionIds: string[] }> {
    return this.db.transaction(async (manager) => {
      const sessions = await queryRows<{ id: string }>(
        manager,
        `SELECT id FROM sessions WHERE account_id = $1`,
        [id],
      );
      await affectedRows(
        manager,
        `UPDATE conversations SET state = 'unpaired', unpaired_at = now(), account_id = NULL, updated_at = now()
          WHERE account_id = $1`,
        [id],
      );
      const deleted = await affectedRows(manager, `DELETE FROM accounts WHERE id = $1`, [id]);
      return { deleted: deleted > 0, sessionIds: sessions.map((s) => s.id) };
    });
  }
}
