import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  AcceptedReply,
  AnswerState,
  AnswerStatus,
  HeldAnswer,
  HeldAnswerStore,
  HeldAnswerSummary,
  HeldAnswerWindow,
  HoldOutcome,
  NewProactiveAnswer,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const HELD_COLUMNS = `id, kind, inbound_message_id AS "inboundMessageId", account_id AS "accountId",
  conversation_key AS "conversationKey", bot_id AS "botId", bot_user_key AS "botUserKey", replies, status,
  expires_at AS "expiresAt", created_at AS "createdAt"`;

const SUMMARY_COLUMNS = `id, kind, account_id AS "accountId", conversation_key AS "conversationKey",
  bot_id AS "botId", inbound_message_id AS "inboundMessageId", status, sent_via AS "sentVia",
  jsonb_array_length(replies)::int AS replies, event_attempts AS "eventAttempts", error,
  expires_at AS "expiresAt", created_at AS "createdAt", sent_at AS "sentAt"`;

/** The held answers on PostgreSQL (`held_answers`, server-mode §4–§5). */
@Injectable()
export class HeldAnswersRepository implements HeldAnswerStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * One statement: a new held answer for the message (its account, conversation, bot and the user's bot user
   * key read from the stored payload), or the reply appended to its open one (the partial unique index).
   */
  async holdReply(
    messageId: string,
    heldId: string,
    reply: AcceptedReply,
    expiresAt: Date,
  ): Promise<HoldOutcome | null> {
    const row = await queryRow<HeldAnswer & { created: boolean }>(
      this.db,
      `INSERT INTO held_answers (id, kind, inbound_message_id, account_id, conversation_key, bot_id, bot_user_key,
                                 replies, expires_at)
       SELECT $2, 'late_reply', i.id, i.account_id, i.conversation_key,
              coalesce(nullif(i.kakao_payload->'bot'->>'id', ''), split_part(i.conversation_key, ':', 1)),
              i.kakao_payload->'userRequest'->'user'->>'id', $3::jsonb, $4
         FROM inbound_messages i WHERE i.id = $1
       ON CONFLICT (inbound_message_id)
          WHERE status IN ('held', 'event_pending') AND inbound_message_id IS NOT NULL
       DO UPDATE SET replies = held_answers.replies || EXCLUDED.replies, updated_at = now()
       RETURNING ${HELD_COLUMNS}, (xmax = 0) AS created`,
      [messageId, heldId, JSON.stringify([reply]), expiresAt],
    );
    if (!row) return null;
    const { created, ...held } = row;
    return { held, created };
  }

  async holdProactive(answer: NewProactiveAnswer): Promise<HeldAnswer> {
    const row = await queryRow<HeldAnswer>(
      this.db,
      `INSERT INTO held_answers (id, kind, account_id, conversation_key, bot_id, bot_user_key, replies, expires_at)
       VALUES ($1, 'proactive', $2, $3, $4, $5, $6::jsonb, $7)
       RETURNING ${HELD_COLUMNS}`,
      [
        answer.id,
        answer.accountId,
        answer.conversationKey,
        answer.botId,
        answer.botUserKey,
        JSON.stringify([answer.reply]),
        answer.expiresAt,
      ],
    );
    if (!row) throw new Error('held answer not stored');
    return row;
  }

  async latestBotUserKey(conversationKey: string): Promise<string | null> {
    const row = await queryRow<{ key: string | null }>(
      this.db,
      `SELECT kakao_payload->'userRequest'->'user'->>'id' AS key FROM inbound_messages
        WHERE conversation_key = $1 AND channel = 'kakao' ORDER BY created_at DESC LIMIT 1`,
      [conversationKey],
    );
    return row?.key ?? null;
  }

  find(heldId: string): Promise<HeldAnswer | null> {
    return queryRow<HeldAnswer>(this.db, `SELECT ${HELD_COLUMNS} FROM held_answers WHERE id = $1`, [heldId]);
  }

  async markEventPending(heldId: string): Promise<boolean> {
    const n = await affectedRows(
      this.db,
      `UPDATE held_answers SET status = 'event_pending', updated_at = now() WHERE id = $1 AND status = 'held'`,
      [heldId],
    );
    return n > 0;
  }

  async recordEventAttempt(
    heldId: string,
    httpStatus: number | null,
    error: string | null,
    taskId: string | null,
  ): Promise<void> {
    await affectedRows(
      this.db,
      `UPDATE held_answers SET event_attempts = event_attempts + 1, event_last_http_status = $2, error = $3,
              event_task_id = coalesce($4, event_task_id), updated_at = now()
        WHERE id = $1`,
      [heldId, httpStatus, error, taskId],
    );
  }

  async releaseEvent(heldId: string, error: string): Promise<void> {
    await affectedRows(
      this.db,
      `UPDATE held_answers SET status = 'held', error = $2, updated_at = now()
        WHERE id = $1 AND status = 'event_pending'`,
      [heldId, error],
    );
  }

  async takeForEventBlock(
    heldId: string,
    botId: string,
    botUserKey: string,
    now: Date,
  ): Promise<AcceptedReply[] | null> {
    const row = await queryRow<{ replies: AcceptedReply[] }>(
      this.db,
      `UPDATE held_answers SET status = 'sent', sent_via = 'event_api', sent_at = now(), updated_at = now()
        WHERE id = $1 AND bot_id = $2 AND bot_user_key = $3 AND status IN ('held', 'event_pending')
          AND expires_at > $4
        RETURNING replies`,
      [heldId, botId, botUserKey, now],
    );
    return row?.replies ?? null;
  }

  expire(now: Date, limit: number): Promise<number> {
    return affectedRows(
      this.db,
      `UPDATE held_answers SET status = 'expired', updated_at = now()
        WHERE id IN (SELECT id FROM held_answers
                      WHERE status IN ('held', 'event_pending') AND expires_at <= $1
                      ORDER BY expires_at LIMIT $2
                      FOR UPDATE SKIP LOCKED)`,
      [now, limit],
    );
  }

  /** A claim whose send is no longer pending (given up, or its row gone) goes back to `held`. */
  releaseStaleClaims(claimedBefore: Date): Promise<number> {
    return affectedRows(
      this.db,
      `UPDATE held_answers h SET status = 'held', claimed_by = NULL, claimed_at = NULL, updated_at = now()
        WHERE h.status = 'claimed' AND h.claimed_at < $1
          AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.id = h.claimed_by AND o.status = 'pending')`,
      [claimedBefore],
    );
  }

  releaseStaleEvents(before: Date, limit: number): Promise<number> {
    return affectedRows(
      this.db,
      `UPDATE held_answers SET status = 'held', updated_at = now(),
              error = coalesce(error, 'the event block did not ask for it in time')
        WHERE id IN (SELECT id FROM held_answers WHERE status = 'event_pending' AND updated_at < $1
                      ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    );
  }

  deleteFinished(before: Date, limit: number): Promise<number> {
    return affectedRows(
      this.db,
      `DELETE FROM held_answers
        WHERE id IN (SELECT id FROM held_answers WHERE status IN ('sent', 'expired', 'failed') AND created_at < $1
                      ORDER BY created_at LIMIT $2)`,
      [before, limit],
    );
  }

  /**
   * A replyId or proactive id of the account: a held answer (by its id or one of its replies), else a reply sent
   * on time (`outbound_messages`), else a Works message (`works_sends`).
   */
  async answerState(accountId: string, id: string): Promise<AnswerState | null> {
    const containsReply = JSON.stringify([{ replyId: id }]);
    const held = await queryRow<{ status: string; error: string | null }>(
      this.db,
      `SELECT status, error FROM held_answers
        WHERE account_id = $1 AND (id = $2 OR replies @> $3::jsonb)
        ORDER BY created_at DESC LIMIT 1`,
      [accountId, id, containsReply],
    );
    if (held) {
      const status: AnswerStatus =
        held.status === 'sent'
          ? 'sent'
          : held.status === 'expired' || held.status === 'failed'
            ? 'failed'
            : 'held';
      return status === 'failed'
        ? {
            id,
            status,
            error:
              held.status === 'expired' ? 'expired before it could be delivered' : (held.error ?? 'failed'),
          }
        : { id, status };
    }
    const outbound = await queryRow<{ status: string; error: string | null }>(
      this.db,
      `SELECT status, error FROM outbound_messages WHERE account_id = $1 AND replies @> $2::jsonb LIMIT 1`,
      [accountId, containsReply],
    );
    if (outbound) {
      if (outbound.status === 'sent') return { id, status: 'sent' };
      if (outbound.status === 'failed') return { id, status: 'failed', error: outbound.error ?? 'failed' };
      return { id, status: 'queued' };
    }
    const works = await queryRow<{ status: string; error: string | null }>(
      this.db,
      `SELECT status, error FROM works_sends WHERE account_id = $1 AND id = $2`,
      [accountId, id],
    );
    if (!works) return null;
    if (works.status === 'sent') return { id, status: 'sent' };
    if (works.status === 'failed') return { id, status: 'failed', error: works.error ?? 'failed' };
    return { id, status: 'queued' };
  }

  list(window: HeldAnswerWindow, status: string | null): Promise<HeldAnswerSummary[]> {
    return queryRows<HeldAnswerSummary>(
      this.db,
      `SELECT ${SUMMARY_COLUMNS} FROM held_answers
        WHERE ($1::text IS NULL OR status = $1)
          AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [status, window.after?.createdAt ?? null, window.after?.id ?? null, window.take],
    );
  }
}
