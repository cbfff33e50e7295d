import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  BotBinding,
  BotBindingInput,
  BotBindingStore,
  BotBindingSummary,
  BotBindingWindow,
  ChannelName,
  uuidV7,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const KEY_COLUMNS = `id, channel, bot_id AS "botId", account_id AS "accountId", policy,
  created_at AS "createdAt", updated_at AS "updatedAt"`;
const COLUMNS = `${KEY_COLUMNS}, allowlist`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isForeignKeyViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23503';
}

/** `BotBindingStore` on PostgreSQL (`bot_bindings`, migration `BotBindings1795000000010`). */
@Injectable()
export class BotBindingsRepository implements BotBindingStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * One statement: inserted only when the account exists (no row: null), or the bot's binding replaced.
   * `xmax = 0` tells an insert from an update. An account deleted concurrently (foreign key) is null too.
   */
  async upsert(input: BotBindingInput): Promise<{ binding: BotBinding; created: boolean } | null> {
    if (!UUID.test(input.accountId)) return null;
    try {
      const row = await queryRow<BotBinding & { created: boolean }>(
        this.db,
        `INSERT INTO bot_bindings AS b (id, channel, bot_id, account_id, policy, allowlist)
         SELECT $1, $2, $3, a.id, $5, $6::text[] FROM accounts a WHERE a.id = $4
         ON CONFLICT (channel, bot_id) DO UPDATE
           SET account_id = EXCLUDED.account_id, policy = EXCLUDED.policy, allowlist = EXCLUDED.allowlist,
               updated_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS created`,
        [uuidV7(), input.channel, input.botId, input.accountId, input.policy, input.allowlist],
      );
      if (!row) return null;
      const { created, ...binding } = row;
      return { binding, created };
    } catch (e) {
      if (isForeignKeyViolation(e)) return null;
      throw e;
    }
  }

  findForBot(channel: ChannelName, botId: string): Promise<BotBinding | null> {
    return queryRow<BotBinding>(
      this.db,
      `SELECT ${COLUMNS} FROM bot_bindings WHERE channel = $1 AND bot_id = $2`,
      [channel, botId],
    );
  }

  async delete(channel: ChannelName, botId: string): Promise<boolean> {
    return (
      (await affectedRows(this.db, `DELETE FROM bot_bindings WHERE channel = $1 AND bot_id = $2`, [
        channel,
        botId,
      ])) > 0
    );
  }

  list(window: BotBindingWindow): Promise<BotBindingSummary[]> {
    return queryRows<BotBindingSummary>(
      this.db,
      `SELECT ${KEY_COLUMNS}, cardinality(allowlist) AS "allowlistCount" FROM bot_bindings
        WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $3`,
      [window.after?.createdAt ?? null, window.after?.id ?? null, window.take],
    );
  }

  all(): Promise<BotBinding[]> {
    return queryRows<BotBinding>(this.db, `SELECT ${COLUMNS} FROM bot_bindings`);
  }

  async fingerprint(): Promise<string> {
    const row = await queryRow<{ n: number; latest: string | null }>(
      this.db,
      `SELECT count(*)::int AS n, max(updated_at)::text AS latest FROM bot_bindings`,
    );
    return `${row?.n ?? 0}/${row?.latest ?? ''}`;
  }
}
