import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { NewWorksSends, WorksSend, WorksSendAttempt, WorksSendStatus } from '@app/core';
import { uuidV7, worksConversationKey, WorksSendStore } from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

interface WorksSendRow {
  id: string;
  account_id: string | null;
  inbound_message_id: string | null;
  bot_id: string;
  conversation_key: string;
  target_kind: 'user' | 'channel';
  target_id: string;
  seq: string;
  content: Record<string, unknown>;
  status: WorksSendStatus;
  attempts: number;
  created_at: Date;
}

const COLUMNS = `id, account_id, inbound_message_id, bot_id, conversation_key, target_kind, target_id, seq, content,
  status, attempts, created_at`;

function toSend(row: WorksSendRow): WorksSend {
  return {
    id: row.id,
    accountId: row.account_id,
    inboundMessageId: row.inbound_message_id,
    target: { botId: row.bot_id, kind: row.target_kind, id: row.target_id },
    conversationKey: row.conversation_key,
    seq: Number(row.seq),
    content: row.content,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
  };
}

/** `WorksSendStore` on `works_sends`. */
@Injectable()
export class WorksSendsRepository implements WorksSendStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  enqueue(sends: NewWorksSends): Promise<WorksSend[]> {
    const conversationKey = worksConversationKey(sends.target);
    return this.dataSource.transaction(async (manager) => {
      // Serialises the sends of one conversation until commit: sequence order is commit order.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7212345))`, [conversationKey]);
      const last = await queryRow<{ seq: string | null }>(
        manager,
        `SELECT max(seq) AS seq FROM works_sends WHERE conversation_key = $1`,
        [conversationKey],
      );
      const first = Number(last?.seq ?? 0) + 1;
      const rows = await queryRows<WorksSendRow>(
        manager,
        `INSERT INTO works_sends (id, account_id, inbound_message_id, bot_id, conversation_key, target_kind,
                                  target_id, seq, content)
         SELECT u.id, $1::uuid, $2::uuid, $3::text, $4::text, $5::text, $6::text, $7::bigint + u.n - 1, u.content
           FROM unnest($8::uuid[], $9::jsonb[]) WITH ORDINALITY AS u(id, content, n)
         RETURNING ${COLUMNS}`,
        [
          sends.accountId,
          sends.inboundMessageId,
          sends.target.botId,
          conversationKey,
          sends.target.kind,
          sends.target.id,
          first,
          sends.contents.map(() => uuidV7()),
          sends.contents.map((c) => JSON.stringify(c)),
        ],
      );
      return rows.map(toSend).sort((a, b) => a.seq - b.seq);
    });
  }

  async find(id: string): Promise<WorksSend | null> {
    const row = await queryRow<WorksSendRow>(
      this.dataSource,
      `SELECT ${COLUMNS} FROM works_sends WHERE id = $1`,
      [id],
    );
    return row ? toSend(row) : null;
  }

  firstUnfinishedBefore(
    conversationKey: string,
    seq: number,
  ): Promise<{ id: string; status: 'queued' | 'retrying' } | null> {
    return queryRow<{ id: string; status: 'queued' | 'retrying' }>(
      this.dataSource,
      `SELECT id, status FROM works_sends
        WHERE conversation_key = $1 AND seq < $2 AND status IN ('queued', 'retrying')
        ORDER BY seq LIMIT 1`,
      [conversationKey, seq],
    );
  }

  async findUnfinished(createdBefore: Date, limit: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `SELECT id FROM works_sends
        WHERE status IN ('queued', 'retrying') AND created_at < $1
        ORDER BY created_at LIMIT $2`,
      [createdBefore, limit],
    );
    return rows.map((r) => r.id);
  }

  async recordAttempt(id: string, attempt: WorksSendAttempt, at: Date): Promise<void> {
    await affectedRows(
      this.dataSource,
      `UPDATE works_sends
          SET attempts = attempts + 1, status = $2, last_http_status = $3, error = $4,
              sent_at = CASE WHEN $2 = 'sent' THEN $5::timestamptz ELSE sent_at END
        WHERE id = $1`,
      [id, attempt.outcome, attempt.httpStatus, attempt.error, at],
    );
  }
}
