import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ApiKeyCreateRefusal,
  ApiKeyCredential,
  ApiKeyStore,
  ApiKeySummary,
  NewApiKey,
  SettingsStore,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const SUMMARY_COLUMNS = `id, account_id AS "accountId", api_key AS "apiKey", created_at AS "createdAt",
  last_used_at AS "lastUsedAt"`;

/** `ApiKeyStore` on PostgreSQL (`api_keys`). */
@Injectable()
export class ApiKeysRepository implements ApiKeyStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  create(
    key: NewApiKey,
    maxPerAccount: number,
  ): Promise<{ created: ApiKeySummary } | { refused: ApiKeyCreateRefusal }> {
    return this.db.transaction(async (manager) => {
      // The account row lock serialises concurrent creations of one account, so the cap holds.
      const account = await queryRow<{ id: string }>(
        manager,
        `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`,
        [key.accountId],
      );
      if (!account) return { refused: 'account_not_found' as const };
      const count = await queryRow<{ n: number }>(
        manager,
        `SELECT count(*)::int AS n FROM api_keys WHERE account_id = $1`,
        [key.accountId],
      );
      if ((count?.n ?? 0) >= maxPerAccount) return { refused: 'too_many_keys' as const };
      const created = await queryRow<ApiKeySummary>(
        manager,
        `INSERT INTO api_keys (id, account_id, api_key, secret_hash) VALUES ($1, $2, $3, $4)
         RETURNING ${SUMMARY_COLUMNS}`,
        [key.id, key.accountId, key.apiKey, key.secretHash],
      );
      return { created: created as ApiKeySummary };
    });
  }

  listForAccount(accountId: string): Promise<ApiKeySummary[]> {
    return queryRows<ApiKeySummary>(
      this.db,
      `SELECT ${SUMMARY_COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at DESC, id DESC`,
      [accountId],
    );
  }

  findByApiKey(apiKey: string): Promise<ApiKeyCredential | null> {
    return queryRow<ApiKeyCredential>(
      this.db,
      `SELECT id, account_id AS "accountId", secret_hash AS "secretHash" FROM api_keys WHERE api_key = $1`,
      [apiKey],
    );
  }

  async findAccounts(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await queryRows<{ id: string; account_id: string }>(
      this.db,
      `SELECT id, account_id FROM api_keys WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.account_id]));
  }

  async touch(id: string): Promise<void> {
    await affectedRows(
      this.db,
      `UPDATE api_keys SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    const n = await affectedRows(this.db, `DELETE FROM api_keys WHERE id = $1 AND account_id = $2`, [
      id,
      accountId,
    ]);
    return n > 0;
  }
}

/** `SettingsStore` on PostgreSQL (`relay_settings`). */
@Injectable()
export class SettingsRepository implements SettingsStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async getOrCreate(name: string, candidate: string): Promise<string> {
    // Two replicas starting together: both insert, one wins, both read the winner.
    await queryRows(
      this.db,
      `INSERT INTO relay_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
      [name, candidate],
    );
    const row = await queryRow<{ value: string }>(
      this.db,
      `SELECT value FROM relay_settings WHERE name = $1`,
      [name],
    );
    if (!row) throw new Error(`setting ${name} vanished after it was stored`);
    return row.value;
  }
}
