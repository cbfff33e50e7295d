import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { KakaoSkillPayload } from '@app/core';
import { InboundMessageEntity, NormalizedMessage } from '../entities';

export interface NewInboundMessage {
  accountId: string;
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
  { created: true; message: StoredMessage } | { created: false; existingId: string };

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
   * Stores a queued message with the account's next sequence number in one statement: the counter bump and
   * the insert commit or fail together, so committed sequence numbers have no gaps. A second request with
   * the same callbackUrl is reported as a duplicate instead.
   */
  async insertQueued(input: NewInboundMessage): Promise<InsertOutcome> {
    if (input.callbackUrl) {
      const existing = await this.findIdByCallbackUrl(input.callbackUrl);
      if (existing) return { created: false, existingId: existing };
    }
    try {
      const rows: MessageRow[] = await this.dataSource.query(
        `WITH next AS (
           UPDATE accounts SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq
         )
         INSERT INTO inbound_messages AS m
           (account_id, seq, conversation_key, kakao_payload, normalized, callback_url, reply_deadline, status)
         SELECT $1, next.last_seq, $2, $3::jsonb, $4::jsonb, $5, $6, 'queued' FROM next
         RETURNING ${MESSAGE_COLUMNS}`,
        [
          input.accountId,
          input.conversationKey,
          JSON.stringify(input.kakaoPayload),
          JSON.stringify(input.normalized),
          input.callbackUrl,
          input.replyDeadline,
        ],
      );
      if (rows.length === 0) throw new Error(`account ${input.accountId} does not exist`);
      return { created: true, message: toStored(rows[0]) };
    } catch (e) {
      if (input.callbackUrl && isUniqueViolation(e)) {
        const existing = await this.findIdByCallbackUrl(input.callbackUrl);
        if (existing) return { created: false, existingId: existing };
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
    const result = await this.repo
      .createQueryBuilder()
      .update(InboundMessageEntity)
      .set({ status: 'delivered', deliveredAt: () => 'now()' })
      .where('id IN (:...ids)', { ids })
      .andWhere("status = 'queued'")
      .execute();
    return result.affected ?? 0;
  }
}
