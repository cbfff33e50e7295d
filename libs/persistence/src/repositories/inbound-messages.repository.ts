import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, type RelayConfig } from '@app/config';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import {
  ChannelName,
  InboundMessageStore,
  InsertOutcome,
  MicroBatcher,
  NewInboundMessage,
  ReplayPageSize,
  ReplayRange,
  ReplayStart,
  StoredMessage,
  uuidV7,
} from '@app/core';
import { InboundMessageEntity, NormalizedMessage } from '../entities';
import { isDatabaseUnavailable } from '../availability';
import { preparedQuery } from '../prepared-query';
import { queryRows } from '../sql';

export type { InsertOutcome, NewInboundMessage, ReplayStart, StoredMessage };

/** A stored message's columns as read (`MESSAGE_COLUMNS`, alias `m`); `toStoredMessage` makes the record. */
export interface MessageRow {
  id: string;
  account_id: string;
  seq: string;
  channel: ChannelName;
  conversation_key: string;
  /** The original body (the column kept its first name; see migration `Channels1795000000004`). */
  kakao_payload: unknown;
  normalized: NormalizedMessage;
  callback_url: string | null;
  created_at: Date;
}

export const MESSAGE_COLUMNS =
  'm.id, m.account_id, m.seq, m.channel, m.conversation_key, m.kakao_payload, m.normalized, m.callback_url, m.created_at';

type InsertedRow = Pick<MessageRow, 'id' | 'account_id' | 'seq' | 'created_at'>;

export function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    accountId: row.account_id,
    seq: Number(row.seq),
    channel: row.channel,
    conversationKey: row.conversation_key,
    payload: row.kakao_payload,
    normalized: row.normalized,
    callbackUrl: row.callback_url,
    createdAt: row.created_at,
  };
}

/**
 * The payload is not sent back by PostgreSQL (rendering and parsing it again cost more than the insert): the
 * stored message is the inserted row's keys with what the caller holds already.
 */
function stored(row: InsertedRow, input: NewInboundMessage): StoredMessage {
  return toStoredMessage({
    ...row,
    channel: input.channel,
    conversation_key: input.conversationKey,
    kakao_payload: input.payload,
    normalized: input.normalized,
    callback_url: input.callbackUrl,
  });
}

/** Messages stored in one statement at most (a busy relay's concurrent webhooks; ~1 KiB each). */
const INSERT_BATCH_MAX = 256;

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

@Injectable()
export class InboundMessagesRepository implements InboundMessageStore {
  constructor(
    @InjectRepository(InboundMessageEntity) private readonly repo: Repository<InboundMessageEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(RELAY_CONFIG) config: Pick<RelayConfig, 'storeQueueMax'>,
  ) {
    this.batcher = new MicroBatcher<NewInboundMessage, InsertOutcome>((items) => this.insertBatch(items), {
      maxBatch: INSERT_BATCH_MAX,
      // One batch at a time per process: a second one would only queue on the same account rows.
      maxInFlight: 1,
      // Two requests with one callbackUrl never share a batch: the second must see the first stored.
      canJoin: (item, batch) =>
        item.callbackUrl === null || !batch.some((b) => b.callbackUrl === item.callbackUrl),
      // A slow database must not grow the relay's memory without limit: beyond it, `OverloadedError` at once.
      maxWaiting: config.storeQueueMax,
    });
  }

  /**
   * Stores a paired user's message; `unpaired` when the conversation is not paired, `duplicate` when a message
   * with the same callbackUrl is stored already (Kakao's retry). Concurrent calls are stored together (see
   * `insertBatch`): the account's sequence counter is a row lock held until commit, and taking it once per
   * message capped a whole relay cluster at about one commit per fsync for a busy account. Rejects at once with
   * `OverloadedError` when `STORE_QUEUE_MAX` messages wait already.
   */
  insertQueued(input: NewInboundMessage): Promise<InsertOutcome> {
    return this.batcher.submit(input);
  }

  private readonly batcher: MicroBatcher<NewInboundMessage, InsertOutcome>;

  /**
   * Stores a batch. Whatever PostgreSQL says about one row (a callbackUrl taken already, a value it refuses, an
   * index entry too large, a trigger, a timeout…) must fail only that row's request: the statement rolls back
   * whole, so after **any** error a batch of several is stored again one by one, in arrival order, and each
   * request gets its own outcome (duplicates told apart). A batch of one is stored as one from the start.
   * If the database itself is gone (a connection-level error while going one by one), the remaining messages
   * fail with that error at once rather than each waiting for its own connection timeout.
   */
  private async insertBatch(
    items: NewInboundMessage[],
  ): Promise<Array<InsertOutcome | Promise<InsertOutcome>>> {
    if (items.length === 1) return [await this.insertOne(items[0])];
    try {
      return await this.store(items);
    } catch {
      const outcomes: Array<Promise<InsertOutcome>> = [];
      let unavailable: unknown = null;
      let previous: Promise<unknown> = Promise.resolve();
      for (const input of items) {
        const outcome = previous.then(async () => {
          if (unavailable) throw unavailable;
          try {
            return await this.insertOne(input);
          } catch (error) {
            if (isDatabaseUnavailable(error)) unavailable = error;
            throw error;
          }
        });
        outcomes.push(outcome);
        previous = outcome.catch(() => undefined);
      }
      await previous;
      return outcomes;
    }
  }

  /** One message alone: the fallback of a failed batch, which tells a duplicate callbackUrl apart. */
  private async insertOne(input: NewInboundMessage): Promise<InsertOutcome> {
    try {
      const [outcome] = await this.store([input]);
      return outcome;
    } catch (e) {
      if ((input.callbackUrl || input.dedupeKey) && isUniqueViolation(e)) {
        const existing = await this.findDuplicateId(input);
        if (existing) return { kind: 'duplicate', existingId: existing };
      }
      throw e;
    }
  }

  /**
   * Stores messages in one statement and one transaction: conversations looked up, each account's counter bumped
   * once by its number of messages (accounts locked in id order, so batches of two replicas never deadlock),
   * sequence numbers handed out in arrival order, rows inserted. Committed sequence numbers stay gap-free; a
   * failing row fails the whole statement.
   */
  private async store(items: NewInboundMessage[]): Promise<InsertOutcome[]> {
    const rows = items.map((input, ord) => ({
      id: uuidV7(),
      ord,
      channel: input.channel,
      conversation_key: input.conversationKey,
      kakao_payload: input.payload,
      normalized: input.normalized,
      callback_url: input.callbackUrl,
      dedupe_key: input.dedupeKey ?? null,
      reply_deadline: input.replyDeadline,
      bound_account_id: input.boundAccountId ?? null,
    }));
    const { rows: inserted } = await preparedQuery<InsertedRow>(
      this.dataSource,
      'inbound_insert_batch_bound',
      `WITH input AS MATERIALIZED (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(id uuid, ord int, channel text,
             conversation_key text, kakao_payload jsonb, normalized jsonb, callback_url text,
             dedupe_key text, reply_deadline timestamptz, bound_account_id uuid)
         ), conv AS (
           SELECT i.*, c.account_id FROM input i
             JOIN conversations c
               ON c.conversation_key = i.conversation_key AND c.state = 'paired' AND c.account_id IS NOT NULL
                  AND (i.bound_account_id IS NULL OR c.account_id = i.bound_account_id)
         ), counts AS (
           SELECT account_id, count(*) AS n FROM conv GROUP BY account_id
         ), locked AS MATERIALIZED (
           SELECT a.id FROM accounts a WHERE a.id IN (SELECT account_id FROM counts) ORDER BY a.id FOR UPDATE
         ), next AS (
           UPDATE accounts a SET last_seq = a.last_seq + counts.n
             FROM counts JOIN locked ON locked.id = counts.account_id
            WHERE a.id = counts.account_id
           RETURNING a.id, a.last_seq, counts.n
         )
         INSERT INTO inbound_messages AS m (id, account_id, seq, channel, conversation_key, kakao_payload,
           normalized, callback_url, dedupe_key, reply_deadline, status)
         SELECT conv.id, conv.account_id,
                next.last_seq - next.n + row_number() OVER (PARTITION BY conv.account_id ORDER BY conv.ord),
                conv.channel, conv.conversation_key, conv.kakao_payload, conv.normalized, conv.callback_url,
                conv.dedupe_key, conv.reply_deadline, 'queued'
           FROM conv JOIN next ON next.id = conv.account_id
         RETURNING m.id, m.account_id, m.seq, m.created_at`,
      [JSON.stringify(rows)],
    );
    const byId = new Map(inserted.map((r) => [r.id, r]));
    return items.map((input, i): InsertOutcome => {
      const row = byId.get(rows[i].id);
      return row ? { kind: 'created', message: stored(row, input) } : { kind: 'unpaired' };
    });
  }

  /** The stored message a repeated request duplicates: the same callbackUrl (Kakao) or dedupe key (Works). */
  private async findDuplicateId(input: NewInboundMessage): Promise<string | null> {
    const where = [];
    if (input.callbackUrl) where.push({ callbackUrl: input.callbackUrl });
    if (input.dedupeKey) where.push({ dedupeKey: input.dedupeKey });
    const row = await this.repo.findOne({ select: { id: true }, where });
    return row?.id ?? null;
  }

  findById(id: string): Promise<InboundMessageEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /**
   * Where a newly connected stream's replay starts, read in one statement: the account's last sequence number
   * (everything at or below it is committed: the counter is bumped in the transaction that stores the messages)
   * and the floor above which messages are owed — the account's delivery mark (messages never written to a
   * stream), or with Last-Event-ID N, N itself (written-but-unanswered messages after it are sent again: the
   * client has seen up to N, even one a crashed replica wrote but had not yet marked delivered). Null when the
   * account does not exist. The messages are then read page by page (`replayPage`).
   */
  async replayStart(accountId: string, lastEventId: number | null): Promise<ReplayStart | null> {
    const rows = await queryRows<{ last_seq: string; delivered_seq: string | null }>(
      this.dataSource,
      `SELECT a.last_seq, d.delivered_seq
         FROM accounts a LEFT JOIN account_deliveries d ON d.account_id = a.id
        WHERE a.id = $1`,
      [accountId],
    );
    if (rows.length === 0) return null;
    const lastSeq = Number(rows[0].last_seq);
    if (lastEventId !== null)
      return { lastSeq, floor: Math.min(lastEventId, lastSeq), includeDelivered: true };
    return { lastSeq, floor: Number(rows[0].delivered_seq ?? 0), includeDelivered: false };
  }

  /**
   * One page of a replay: owed messages with afterSeq < seq <= upToSeq, younger than the queue TTL, oldest first,
   * at most `page.rows` of them and no more than `page.bytes` of payload (the first row always comes), so a
   * replay never holds a large backlog in memory at once.
   */
  async replayPage(
    accountId: string,
    range: ReplayRange,
    ttlSeconds: number,
    page: ReplayPageSize,
  ): Promise<StoredMessage[]> {
    const rows = await queryRows<MessageRow>(
      this.dataSource,
      `SELECT p.* FROM (
         SELECT q.*, sum(q.size) OVER (ORDER BY q.seq) - q.size AS before_bytes FROM (
           SELECT ${MESSAGE_COLUMNS}, octet_length(m.kakao_payload::text) AS size
             FROM inbound_messages m
            WHERE m.account_id = $1 AND m.seq > $2 AND m.seq <= $3
              AND (m.status = 'queued' OR ($4::boolean AND m.status = 'delivered'))
              AND m.created_at > now() - make_interval(secs => $5)
            ORDER BY m.seq ASC
            LIMIT $6
         ) q
       ) p
       WHERE p.before_bytes < $7
       ORDER BY p.seq ASC`,
      [accountId, range.afterSeq, range.upToSeq, range.includeDelivered, ttlSeconds, page.rows, page.bytes],
    );
    return rows.map(toStoredMessage);
  }

  /** Messages of an account with fromSeq < seq <= toSeq (a gap a stream noticed), oldest first. */
  async findSeqRange(
    accountId: string,
    fromSeqExclusive: number,
    toSeqInclusive: number,
  ): Promise<StoredMessage[]> {
    const rows = await queryRows<MessageRow>(
      this.dataSource,
      `SELECT ${MESSAGE_COLUMNS} FROM inbound_messages m
        WHERE m.account_id = $1 AND m.seq > $2 AND m.seq <= $3 AND m.status <> 'expired'
        ORDER BY m.seq ASC`,
      [accountId, fromSeqExclusive, toSeqInclusive],
    );
    return rows.map(toStoredMessage);
  }

  /**
   * Records what live streams wrote: per account, the highest sequence number written (a stream writes an
   * account's messages in sequence order, so everything at or below it was delivered). One small row per account
   * instead of a rewrite of every message row (its payload and all its index entries, and a dead tuple to
   * vacuum). The mark only moves forward; marks of accounts deleted meanwhile are dropped.
   */
  async markDelivered(marks: ReadonlyMap<string, number>): Promise<number> {
    if (marks.size === 0) return 0;
    const { rowCount } = await preparedQuery(
      this.dataSource,
      'account_deliveries_mark',
      `INSERT INTO account_deliveries AS d (account_id, delivered_seq)
       SELECT u.account_id, u.seq
         FROM unnest($1::uuid[], $2::bigint[]) AS u (account_id, seq)
         JOIN accounts a ON a.id = u.account_id
       ON CONFLICT (account_id) DO UPDATE
         SET delivered_seq = EXCLUDED.delivered_seq, updated_at = now()
         WHERE d.delivered_seq < EXCLUDED.delivered_seq`,
      [[...marks.keys()], [...marks.values()]],
    );
    return rowCount;
  }
}
