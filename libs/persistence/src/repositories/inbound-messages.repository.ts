import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { KakaoSkillPayload } from '@app/core';
import { InboundMessageEntity, NormalizedMessage } from '../entities';

export interface NewInboundMessage {
  conversationKey: string;
  kakaoPayload: KakaoSkillPayload;
  normalized: NormalizedMessage;
  callbackUrl: string | null;
  replyDeadline: Date;
}

/** What the agent stream needs of a message to write its `message` event. */
export interface StoredMessage {
  id: string;
  accountId: string;
  seq: number;
  conversationKey: string;
  kakaoPayload: KakaoSkillPayload;
  normalized: NormalizedMessage;
  callbackUrl: string | null;
  createdAt: Date;
}

export type InsertOutcome =
  | { kind: 'created'; message: StoredMessage }
  | { kind: 'duplicate'; existingId: string }
  | { kind: 'unpaired' };

interface MessageRow {
  id: string;
  account_id: string;
  seq: string;
  conversation_key: string;
  kakao_payload: KakaoSkillPayload;
  normalized: NormalizedMessage;
  callback_url: string | null;
  created_at: Date;
}

const MESSAGE_COLUMNS =
  'm.id, m.account_id, m.seq, m.conversation_key, m.kakao_payload, m.normalized, m.callback_url, m.created_at';

function toStored(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    accountId: row.account_id,
    seq: Number(row.seq),
    conversationKey: row.conversation_key,
    kakaoPayload: row.kakao_payload,
    normalized: row.normalized,
    callbackUrl: row.callback_url,
    createdAt: row.created_at,
  };
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

export interface ReplaySnapshot {
  /** The account's last sequence number at the instant of the snapshot. */
  lastSeq: number;
  messages: StoredMessage[];
}

@Injectable()
export class InboundMessagesRepository {
  constructor(
    @InjectRepository(InboundMessageEntity) private readonly repo: Repository<InboundMessageEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Stores a paired user's message in one statement (one round trip on the busiest path): the conversation's
   * account is looked up, its sequence counter bumped and the message inserted together, so committed sequence
   * numbers have no gaps. No row when the conversation is not paired. A second request with the same
   * callbackUrl hits the unique index (the whole statement, counter bump included, rolls back) and is reported
   * as a duplicate.
   */
  async insertQueued(input: NewInboundMessage): Promise<InsertOutcome> {
    try {
      const rows: Array<Pick<MessageRow, 'id' | 'account_id' | 'seq' | 'created_at'>> =
        await this.dataSource.query(
          `WITH conv AS (
           SELECT account_id FROM conversations
            WHERE conversation_key = $1 AND state = 'paired' AND account_id IS NOT NULL
         ), next AS (
           UPDATE accounts a SET last_seq = a.last_seq + 1 FROM conv WHERE a.id = conv.account_id
           RETURNING a.id, a.last_seq
         )
         INSERT INTO inbound_messages AS m
           (account_id, seq, conversation_key, kakao_payload, normalized, callback_url, reply_deadline, status)
         SELECT next.id, next.last_seq, $1, $2::jsonb, $3::jsonb, $4, $5, 'queued' FROM next
         RETURNING m.id, m.account_id, m.seq, m.created_at`,
          [
            input.conversationKey,
            JSON.stringify(input.kakaoPayload),
            JSON.stringify(input.normalized),
            input.callbackUrl,
            input.replyDeadline,
          ],
        );
      if (rows.length === 0) return { kind: 'unpaired' };
      // The payload is not sent back by PostgreSQL (rendering and parsing it again cost more than the insert).
      return {
        kind: 'created',
        message: toStored({
          ...rows[0],
          conversation_key: input.conversationKey,
          kakao_payload: input.kakaoPayload,
          normalized: input.normalized,
          callback_url: input.callbackUrl,
        }),
      };
    } catch (e) {
      if (input.callbackUrl && isUniqueViolation(e)) {
        const existing = await this.findIdByCallbackUrl(input.callbackUrl);
        if (existing) return { kind: 'duplicate', existingId: existing };
      }
      throw e;
    }
  }

  private async findIdByCallbackUrl(callbackUrl: string): Promise<string | null> {
    const row = await this.repo.findOne({ select: { id: true }, where: { callbackUrl } });
    return row?.id ?? null;
  }

  findById(id: string): Promise<InboundMessageEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /**
   * What a newly connected stream must send, taken in one consistent snapshot together with the account's
   * last sequence number: every message never written to a stream (younger than the queue TTL); with
   * Last-Event-ID N, every unanswered message after N instead — the client has seen up to N, so nothing at or
   * below it is sent again, even one a crashed replica wrote but had not yet marked delivered.
   */
  async replaySnapshot(
    accountId: string,
    afterSeq: number | null,
    ttlSeconds: number,
  ): Promise<ReplaySnapshot> {
    const rows: Array<MessageRow & { last_seq: string }> = await this.dataSource.query(
      `SELECT a.last_seq, ${MESSAGE_COLUMNS}
         FROM accounts a
         LEFT JOIN inbound_messages m
           ON m.account_id = a.id
          AND m.created_at > now() - make_interval(secs => $2)
          AND (
            ($3::bigint IS NULL AND m.status = 'queued')
            OR ($3::bigint IS NOT NULL AND m.status IN ('queued', 'delivered') AND m.seq > $3::bigint)
          )
        WHERE a.id = $1
        ORDER BY m.seq ASC`,
      [accountId, ttlSeconds, afterSeq],
    );
    if (rows.length === 0) return { lastSeq: 0, messages: [] };
    return {
      lastSeq: Number(rows[0].last_seq),
      messages: rows.filter((r) => r.id !== null).map(toStored),
    };
  }

  /** Messages of an account with fromSeq < seq <= toSeq (a gap a stream noticed), oldest first. */
  async findSeqRange(
    accountId: string,
    fromSeqExclusive: number,
    toSeqInclusive: number,
  ): Promise<StoredMessage[]> {
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT ${MESSAGE_COLUMNS} FROM inbound_messages m
        WHERE m.account_id = $1 AND m.seq > $2 AND m.seq <= $3 AND m.status <> 'expired'
        ORDER BY m.seq ASC`,
      [accountId, fromSeqExclusive, toSeqInclusive],
    );
    return rows.map(toStored);
  }

  /** The account's messages after a sequence number (catch-up after a Redis outage). */
  async findAfterSeq(accountId: string, afterSeq: number, ttlSeconds: number): Promise<StoredMessage[]> {
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT ${MESSAGE_COLUMNS} FROM inbound_messages m
        WHERE m.account_id = $1 AND m.seq > $2 AND m.status IN ('queued', 'delivered')
          AND m.created_at > now() - make_interval(secs => $3)
        ORDER BY m.seq ASC`,
      [accountId, afterSeq, ttlSeconds],
    );
    return rows.map(toStored);
  }

  /** Marks messages written to a live stream as delivered (only those still queued). */
  async markDelivered(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [, affected] = (await this.dataSource.query(
      `UPDATE inbound_messages SET status = 'delivered', delivered_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'queued'`,
      [ids],
    )) as [unknown, number];
    return affected;
  }
}
