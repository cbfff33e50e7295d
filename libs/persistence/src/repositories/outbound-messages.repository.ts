import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { SkillResponse } from '@app/core';
import { AcceptedReply, OutboundMessageEntity, OutboundMode } from '../entities';
import { affectedRows, queryRow, queryRows } from '../sql';

export interface AcceptReplyInput {
  messageId: string;
  accountId: string;
  reply: AcceptedReply;
  /** Quiet time before the coalesced send. */
  coalesceMs: number;
  /** How long before the reply deadline the send must start, per mode. */
  sendMarginMs: Record<OutboundMode, number>;
}

export type AcceptReplyOutcome =
  | { kind: 'accepted'; mode: OutboundMode; sendAfter: Date; replyDeadline: Date }
  | { kind: 'not_found' }
  | { kind: 'already_replied' }
  | { kind: 'expired' };

/** What the send job needs once it has claimed a row. */
export interface ClaimedSend {
  id: string;
  accountId: string;
  mode: OutboundMode;
  replies: AcceptedReply[];
  callbackUrl: string | null;
  replyDeadline: Date;
  createdAt: Date;
  attempts: number;
}

export interface SendState {
  status: OutboundMessageEntity['status'];
  sendAfter: Date | null;
}

@Injectable()
export class OutboundMessagesRepository {
  constructor(
    @InjectRepository(OutboundMessageEntity) private readonly repo: Repository<OutboundMessageEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  findByInboundMessageId(inboundMessageId: string): Promise<OutboundMessageEntity | null> {
    return this.repo.findOne({ where: { inboundMessageId } });
  }

  /**
   * Accepts one reply for a message: with the message row locked, checks ownership, that no send has started
   * and that the deadline has not passed, then appends the reply and pushes the send back by the quiet time
   * (never past the deadline minus the margin).
   */
  acceptReply(input: AcceptReplyInput): Promise<AcceptReplyOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const inbound = await queryRow<{
        account_id: string;
        callback_url: string | null;
        reply_deadline: Date;
        status: string;
      }>(
        manager,
        `SELECT account_id, callback_url, reply_deadline, status FROM inbound_messages WHERE id = $1 FOR UPDATE`,
        [input.messageId],
      );
      if (!inbound || inbound.account_id !== input.accountId) return { kind: 'not_found' };
      const existing = await queryRow<{ status: string; claimed_at: Date | null }>(
        manager,
        `SELECT status, claimed_at FROM outbound_messages WHERE inbound_message_id = $1`,
        [input.messageId],
      );
      if (existing && (existing.status !== 'pending' || existing.claimed_at))
        return { kind: 'already_replied' };
      const now = Date.now();
      const deadline = inbound.reply_deadline.getTime();
      if (now >= deadline || inbound.status === 'expired') return { kind: 'expired' };
      const mode: OutboundMode = inbound.callback_url ? 'callback' : 'inline';
      const sendBy = deadline - input.sendMarginMs[mode];
      const sendAfter = new Date(Math.max(now, Math.min(now + input.coalesceMs, sendBy)));
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
        [input.messageId, input.accountId, mode, JSON.stringify([input.reply]), sendAfter],
      );
      if (rows.length === 0) return { kind: 'already_replied' };
      return { kind: 'accepted', mode, sendAfter, replyDeadline: inbound.reply_deadline };
    });
  }

  /** Takes the replies of a due send; from now on no reply is accepted for the message. */
  async claimDue(messageId: string): Promise<ClaimedSend | null> {
    const row = await queryRow<{
      id: string;
      account_id: string;
      mode: OutboundMode;
      replies: AcceptedReply[];
      attempts: number;
      callback_url: string | null;
      reply_deadline: Date;
      created_at: Date;
    }>(
      this.dataSource,
      `UPDATE outbound_messages o SET claimed_at = now(), updated_at = now()
         FROM inbound_messages i
        WHERE o.inbound_message_id = $1 AND i.id = o.inbound_message_id
          AND o.status = 'pending' AND o.send_after <= now() + interval '5 milliseconds'
        RETURNING o.id, o.account_id, o.mode, o.replies, o.attempts, i.callback_url, i.reply_deadline, i.created_at`,
      [messageId],
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
    };
  }

  async sendState(messageId: string): Promise<SendState | null> {
    const row = await this.repo.findOne({
      select: { status: true, sendAfter: true },
      where: { inboundMessageId: messageId },
    });
    return row ? { status: row.status, sendAfter: row.sendAfter } : null;
  }

  async recordAttempt(
    id: string,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    await this.repo.update({ id }, { attempts, lastHttpStatus: httpStatus, error });
  }

  /** Outcome of the send, on the outbound row and its message (`replied` or `failed`) together. */
  async finish(
    id: string,
    outcome: {
      ok: boolean;
      response: SkillResponse;
      attempts: number;
      httpStatus: number | null;
      error: string | null;
    },
  ): Promise<Date> {
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
          id,
          outcome.ok ? 'sent' : 'failed',
          JSON.stringify(outcome.response),
          outcome.attempts,
          outcome.httpStatus,
          outcome.error,
        ],
      );
      if (!row) throw new Error(`outbound message ${id} does not exist`);
      await affectedRows(
        manager,
        `UPDATE inbound_messages SET status = $2::varchar, replied_at = CASE WHEN $2::varchar = 'replied' THEN now() END
          WHERE id = $1`,
        [row.inbound_message_id, outcome.ok ? 'replied' : 'failed'],
      );
      return row.updated_at;
    });
  }

  /** Pending sends that are overdue and unclaimed: their job was lost (Redis outage) and must be queued again. */
  async findOverdueMessageIds(olderThanMs: number, limit: number): Promise<string[]> {
    const rows = await queryRows<{ inbound_message_id: string }>(
      this.dataSource,
      `SELECT inbound_message_id FROM outbound_messages
        WHERE status = 'pending' AND claimed_at IS NULL AND send_after < now() - make_interval(secs => $1)
        ORDER BY send_after LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return rows.map((r) => r.inbound_message_id);
  }
}
