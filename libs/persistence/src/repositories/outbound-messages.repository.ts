import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type {
  AcceptedReply,
  AcceptReplyOutcome,
  ClaimedSend,
  OutboundMode,
  ReplyDecision,
  ReplyRoute,
  ReplyTarget,
  SendRecord,
  SendState,
} from '@app/core';
import { ReplyStore } from '@app/core';
import { OutboundMessageEntity } from '../entities';
import { affectedRows, queryRow, queryRows } from '../sql';

/** The reply path's store (`ReplyStore`) on `outbound_messages`, one row per answered message. */
@Injectable()
export class OutboundMessagesRepository implements ReplyStore {
  constructor(
    @InjectRepository(OutboundMessageEntity) private readonly repo: Repository<OutboundMessageEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** One read by primary key: the message's account, channel and conversation. */
  async findRoute(messageId: string): Promise<ReplyRoute | null> {
    const row = await queryRow<{
      account_id: string;
      channel: ReplyRoute['channel'];
      conversation_key: string;
    }>(this.dataSource, `SELECT account_id, channel, conversation_key FROM inbound_messages WHERE id = $1`, [
      messageId,
    ]);
    return row
      ? { accountId: row.account_id, channel: row.channel, conversationKey: row.conversation_key }
      : null;
  }

  async markReplied(messageId: string, at: Date): Promise<void> {
    await affectedRows(
      this.dataSource,
      `UPDATE inbound_messages SET status = 'replied', replied_at = $2 WHERE id = $1 AND status <> 'replied'`,
      [messageId, at],
    );
  }

  /**
   * One transaction: locks the message row, reads it and its outbound row, asks `decide`, and on `accept`
   * appends the reply and sets `send_after` — unless the send was claimed meanwhile.
   */
  acceptReply(
    messageId: string,
    reply: AcceptedReply,
    decide: (target: ReplyTarget | null) => ReplyDecision,
  ): Promise<AcceptReplyOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const inbound = await queryRow<{
        account_id: string;
        callback_url: string | null;
        reply_deadline: Date;
        status: string;
      }>(
        manager,
        `SELECT account_id, callback_url, reply_deadline, status FROM inbound_messages WHERE id = $1 FOR UPDATE`,
        [messageId],
      );
      const existing = inbound
        ? await queryRow<{ status: string; claimed_at: Date | null }>(
            manager,
            `SELECT status, claimed_at FROM outbound_messages WHERE inbound_message_id = $1`,
            [messageId],
          )
        : null;
      const target: ReplyTarget | null = inbound
        ? {
            accountId: inbound.account_id,
            mode: inbound.callback_url ? 'callback' : 'inline',
            replyDeadline: inbound.reply_deadline,
            expired: inbound.status === 'expired',
            sendStarted: !!existing && (existing.status !== 'pending' || existing.claimed_at !== null),
          }
        : null;
      const decision = decide(target);
      if (decision.kind !== 'accept') return decision;
      if (!target) return { kind: 'not_found' };
      const rows = await queryRows<{ id: string }>(
        manager,
        `INSERT INTO outbound_messages (inbound_message_id, account_id, mode, status, replies, send_after)
         VALUES ($1, $2, $3, 'pending', $4::jsonb, $5)
         ON CONFLICT (inbound_message_id) DO UPDATE
           SET replies = outbound_messages.replies || EXCLUDED.replies,
               send_after = EXCLUDED.send_after,
               updated_at = now()
         WHERE outbound_messages.status = 'pending' AND outbound_messages.claimed_at IS NULL
         RETURNING id`,
        [messageId, target.accountId, target.mode, JSON.stringify([reply]), decision.sendAfter],
      );
      if (rows.length === 0) return { kind: 'already_replied' };
      return {
        kind: 'accepted',
        mode: target.mode,
        sendAfter: decision.sendAfter,
        replyDeadline: target.replyDeadline,
      };
    });
  }

  /**
   * Takes the replies of a due send; from now on no reply is accepted for the message. In the same statement,
   * the conversation's held answers (server-mode §4) of the same account (a conversation paired to another agent
   * since does not carry the first agent's answers) are claimed for this send (`claimed_by`), so that two sends
   * can never both take one, and a send that does not go out gives them back (`finish`, or the cleanup's
   * `releaseStaleClaims` after a crash).
   */
  async claimDue(messageId: string, now: Date): Promise<ClaimedSend | null> {
    // One statement (data-modifying CTEs are atomic): the send's claim and its held answers' claim together, in one
    // round trip rather than a transaction of four.
    const row = await queryRow<{
      id: string;
      account_id: string;
      mode: OutboundMode;
      replies: AcceptedReply[];
      attempts: number;
      callback_url: string | null;
      reply_deadline: Date;
      created_at: Date;
      held: { id: string; replies: AcceptedReply[] }[];
    }>(
      this.dataSource,
      `WITH claimed AS (
         UPDATE outbound_messages o SET claimed_at = now(), updated_at = now()
           FROM inbound_messages i
          WHERE o.inbound_message_id = $1 AND i.id = o.inbound_message_id
            AND o.status = 'pending' AND o.send_after <= $2::timestamptz + interval '5 milliseconds'
          RETURNING o.id, o.account_id, o.mode, o.replies, o.attempts, i.callback_url, i.reply_deadline,
                    i.created_at, i.conversation_key),
       picked AS (
         SELECT h.id FROM held_answers h
           JOIN claimed c ON h.conversation_key = c.conversation_key AND h.account_id = c.account_id
          WHERE h.status = 'held' AND h.expires_at > $2
          ORDER BY h.created_at, h.id
          LIMIT 10
          FOR UPDATE OF h SKIP LOCKED),
       held AS (
         UPDATE held_answers h
            SET status = 'claimed', claimed_by = (SELECT id FROM claimed), claimed_at = now(), updated_at = now()
           FROM picked WHERE h.id = picked.id
         RETURNING h.id, h.replies, h.created_at)
       SELECT c.id, c.account_id, c.mode, c.replies, c.attempts, c.callback_url, c.reply_deadline, c.created_at,
              COALESCE((SELECT json_agg(json_build_object('id', held.id, 'replies', held.replies)
                                        ORDER BY held.created_at, held.id) FROM held), '[]'::json) AS held
         FROM claimed c`,
      [messageId, now],
    );
    if (!row) return null;
    return {
      id: row.id,
      accountId: row.account_id,
      mode: row.mode,
      replies: row.replies,
      attempts: row.attempts,
      callbackUrl: row.callback_url,
      replyDeadline: row.reply_deadline,
      createdAt: row.created_at,
      held: row.held,
    };
  }

  async sendState(messageId: string): Promise<SendState | null> {
    const row = await this.repo.findOne({
      select: { status: true, sendAfter: true, sentAt: true, error: true },
      where: { inboundMessageId: messageId },
    });
    return row
      ? { status: row.status, sendAfter: row.sendAfter, sentAt: row.sentAt, error: row.error }
      : null;
  }

  async recordAttempt(
    sendId: string,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    await this.repo.update({ id: sendId }, { attempts, lastHttpStatus: httpStatus, error });
  }

  /** Outcome of the send, on the outbound row and its message (`replied` or `failed`) together. */
  async finish(sendId: string, outcome: SendRecord): Promise<Date> {
    return this.dataSource.transaction(async (manager) => {
      const row = await queryRow<{ inbound_message_id: string; updated_at: Date }>(
        manager,
        `UPDATE outbound_messages
            SET status = $2::varchar, response = $3::jsonb, attempts = $4, last_http_status = $5, error = $6,
                sent_at = CASE WHEN $2::varchar = 'sent' THEN now() END,
                failed_at = CASE WHEN $2::varchar = 'failed' THEN now() END,
                updated_at = now()
          WHERE id = $1
          RETURNING inbound_message_id, updated_at`,
        [
          sendId,
          outcome.ok ? 'sent' : 'failed',
          JSON.stringify(outcome.response),
          outcome.attempts,
          outcome.httpStatus,
          outcome.error,
        ],
      );
      if (!row) throw new Error(`outbound message ${sendId} does not exist`);
      await affectedRows(
        manager,
        `UPDATE inbound_messages SET status = $2::varchar, replied_at = CASE WHEN $2::varchar = 'replied' THEN now() END
          WHERE id = $1`,
        [row.inbound_message_id, outcome.ok ? 'replied' : 'failed'],
      );
      // The held answers claimed with this send: those it carried are delivered with it, the rest wait again.
      await affectedRows(
        manager,
        `UPDATE held_answers
            SET status = CASE WHEN $2::boolean AND id = ANY($3::uuid[]) THEN 'sent' ELSE 'held' END,
                sent_via = CASE WHEN $2::boolean AND id = ANY($3::uuid[]) THEN 'next_answer' END,
                sent_at = CASE WHEN $2::boolean AND id = ANY($3::uuid[]) THEN now() END,
                claimed_by = CASE WHEN $2::boolean AND id = ANY($3::uuid[]) THEN claimed_by END,
                claimed_at = CASE WHEN $2::boolean AND id = ANY($3::uuid[]) THEN claimed_at END,
                updated_at = now()
          WHERE claimed_by = $1 AND status = 'claimed'`,
        [sendId, outcome.ok, outcome.heldIncluded ?? []],
      );
      return row.updated_at;
    });
  }

  /** Pending sends that are overdue and unclaimed: their job was lost (Redis outage) and must be queued again. */
  async findOverdueMessageIds(dueBefore: Date, limit: number): Promise<string[]> {
    const rows = await queryRows<{ inbound_message_id: string }>(
      this.dataSource,
      `SELECT inbound_message_id FROM outbound_messages
        WHERE status = 'pending' AND claimed_at IS NULL AND send_after < $1
        ORDER BY send_after LIMIT $2`,
      [dueBefore, limit],
    );
    return rows.map((r) => r.inbound_message_id);
  }
}
