import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRow, queryRows } from '../sql';

/** Keyset page position: newest first by (created_at, id). */
export interface PageCursor {
  createdAt: string;
  id: string;
}

export interface Page<T> {
  items: T[];
  next: PageCursor | null;
}

export interface OverviewCounts {
  accounts: number;
  sessions: Record<string, number>;
  conversations: Record<string, number>;
  inbound: Record<string, number>;
  outbound: Record<string, number>;
}

export interface AccountSummaryRow {
  id: string;
  createdAt: Date;
  hasRelayToken: boolean;
  lastSeq: number;
  pairedConversations: number;
  conversations: number;
  liveSessions: number;
  lastMessageAt: Date | null;
}

export interface ConversationRow {
  id: string;
  conversationKey: string;
  channelId: string;
  userId: string;
  accountId: string | null;
  state: string;
  pairedAt: Date | null;
  unpairedAt: Date | null;
  createdAt: Date;
}

export interface SessionRow {
  id: string;
  status: string;
  accountId: string | null;
  pairingCode: string | null;
  expiresAt: Date;
  pairedAt: Date | null;
  kakaoUserId: string | null;
  conversationKey: string | null;
  createdAt: Date;
}

export interface InboundRow {
  id: string;
  accountId: string;
  seq: number;
  conversationKey: string;
  text: string;
  userId: string;
  status: string;
  hasCallback: boolean;
  createdAt: Date;
  deliveredAt: Date | null;
  repliedAt: Date | null;
}

export interface OutboundRow {
  id: string;
  messageId: string;
  accountId: string;
  mode: string;
  status: string;
  replies: number;
  attempts: number;
  lastHttpStatus: number | null;
  error: string | null;
  response: unknown;
  createdAt: Date;
  sentAt: Date | null;
  failedAt: Date | null;
}

export interface ListFilter {
  accountId: string | null;
  /** `state` of conversations, `status` of the others. */
  state: string | null;
}

interface ListSpec {
  table: string;
  stateColumn: 'state' | 'status';
  columns: string;
}

const ACCOUNT_SUMMARY = `
  SELECT a.id, a.created_at AS "createdAt", a.relay_token_hash IS NOT NULL AS "hasRelayToken",
         a.last_seq::int AS "lastSeq",
         (SELECT count(*)::int FROM conversations c WHERE c.account_id = a.id AND c.state = 'paired') AS "pairedConversations",
         (SELECT count(*)::int FROM conversations c WHERE c.account_id = a.id) AS "conversations",
         (SELECT count(*)::int FROM sessions s
           WHERE s.account_id = a.id AND s.status IN ('pending_pairing', 'paired')) AS "liveSessions",
         (SELECT max(m.created_at) FROM inbound_messages m WHERE m.account_id = a.id) AS "lastMessageAt"
    FROM accounts a`;

const LISTS: Record<'conversations' | 'sessions' | 'inbound' | 'outbound', ListSpec> = {
  conversations: {
    table: 'conversations',
    stateColumn: 'state',
    columns: `id, conversation_key AS "conversationKey", channel_id AS "channelId", user_id AS "userId",
              account_id AS "accountId", state, paired_at AS "pairedAt", unpaired_at AS "unpairedAt",
              created_at AS "createdAt"`,
  },
  sessions: {
    table: 'sessions',
    stateColumn: 'status',
    columns: `id, status, account_id AS "accountId",
              CASE WHEN status = 'pending_pairing' AND expires_at > now()
                   THEN substr(pairing_code, 1, 4) || '-' || substr(pairing_code, 5) END AS "pairingCode",
              expires_at AS "expiresAt", paired_at AS "pairedAt", kakao_user_id AS "kakaoUserId",
              conversation_key AS "conversationKey", created_at AS "createdAt"`,
  },
  inbound: {
    // The read model with the derived status (delivered = queued at or below the account's delivery mark).
    table: 'inbound_message_states',
    stateColumn: 'status',
    columns: `id, account_id AS "accountId", seq::int AS seq, conversation_key AS "conversationKey",
              normalized->>'text' AS text, normalized->>'userId' AS "userId", status,
              callback_url IS NOT NULL AS "hasCallback", created_at AS "createdAt",
              delivered_at AS "deliveredAt", replied_at AS "repliedAt"`,
  },
  outbound: {
    table: 'outbound_messages',
    stateColumn: 'status',
    columns: `id, inbound_message_id AS "messageId", account_id AS "accountId", mode, status,
              jsonb_array_length(replies) AS replies, attempts, last_http_status AS "lastHttpStatus", error,
              response, created_at AS "createdAt", sent_at AS "sentAt", failed_at AS "failedAt"`,
  },
};

/** A `GROUP BY` count row; PostgreSQL's bigint `count(*)` arrives as a string. */
interface Grouped {
  key: string;
  n: string;
}

function grouped(rows: Grouped[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
}

/**
 * Read models for the admin API: counters and keyset-paginated lists (newest first). Filters are bound
 * parameters; the optional ones are written as `($n::type IS NULL OR column = $n)`, never by string building.
 */
@Injectable()
export class AdminReadRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async overview(): Promise<OverviewCounts> {
    const [accounts, sessions, conversations, inbound, outbound] = await Promise.all([
      queryRow<{ n: number }>(this.db, `SELECT count(*)::int AS n FROM accounts`),
      queryRows<Grouped>(this.db, `SELECT status AS key, count(*) AS n FROM sessions GROUP BY status`),
      queryRows<Grouped>(this.db, `SELECT state AS key, count(*) AS n FROM conversations GROUP BY state`),
      queryRows<Grouped>(
        this.db,
        `SELECT status AS key, count(*) AS n FROM inbound_message_states GROUP BY status`,
      ),
      queryRows<Grouped>(
        this.db,
        `SELECT status AS key, count(*) AS n FROM outbound_messages GROUP BY status`,
      ),
    ]);
    return {
      accounts: accounts?.n ?? 0,
      sessions: grouped(sessions),
      conversations: grouped(conversations),
      inbound: grouped(inbound),
      outbound: grouped(outbound),
    };
  }

  private page<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): Page<T> {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      next: rows.length > limit && last ? { createdAt: last.createdAt.toISOString(), id: last.id } : null,
    };
  }

  async accounts(limit: number, cursor: PageCursor | null): Promise<Page<AccountSummaryRow>> {
    const rows = await queryRows<AccountSummaryRow>(
      this.db,
      `${ACCOUNT_SUMMARY}
        WHERE ($1::timestamptz IS NULL OR (a.created_at, a.id) < ($1::timestamptz, $2::uuid))
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $3`,
      [cursor?.createdAt ?? null, cursor?.id ?? null, limit + 1],
    );
    return this.page(rows, limit);
  }

  account(id: string): Promise<AccountSummaryRow | null> {
    return queryRow<AccountSummaryRow>(this.db, `${ACCOUNT_SUMMARY} WHERE a.id = $1`, [id]);
  }

  async accountStats(
    id: string,
  ): Promise<{ inbound: Record<string, number>; outbound: Record<string, number> }> {
    const [inbound, outbound] = await Promise.all([
      queryRows<Grouped>(
        this.db,
        `SELECT status AS key, count(*) AS n FROM inbound_message_states WHERE account_id = $1 GROUP BY status`,
        [id],
      ),
      queryRows<Grouped>(
        this.db,
        `SELECT status AS key, count(*) AS n FROM outbound_messages WHERE account_id = $1 GROUP BY status`,
        [id],
      ),
    ]);
    return { inbound: grouped(inbound), outbound: grouped(outbound) };
  }

  conversations(
    filter: ListFilter,
    limit: number,
    cursor: PageCursor | null,
  ): Promise<Page<ConversationRow>> {
    return this.list<ConversationRow>(LISTS.conversations, filter, limit, cursor);
  }

  sessions(filter: ListFilter, limit: number, cursor: PageCursor | null): Promise<Page<SessionRow>> {
    return this.list<SessionRow>(LISTS.sessions, filter, limit, cursor);
  }

  inbound(filter: ListFilter, limit: number, cursor: PageCursor | null): Promise<Page<InboundRow>> {
    return this.list<InboundRow>(LISTS.inbound, filter, limit, cursor);
  }

  outbound(filter: ListFilter, limit: number, cursor: PageCursor | null): Promise<Page<OutboundRow>> {
    return this.list<OutboundRow>(LISTS.outbound, filter, limit, cursor);
  }

  /**
   * One keyset page of a list, newest first, optionally filtered by account and state. The SQL is assembled
   * from the constant fragments of LISTS only; every value is a bound parameter.
   */
  private async list<T extends { createdAt: Date; id: string }>(
    spec: ListSpec,
    filter: ListFilter,
    limit: number,
    cursor: PageCursor | null,
  ): Promise<Page<T>> {
    const rows = await queryRows<T>(
      this.db,
      `SELECT ${spec.columns}
         FROM ${spec.table}
        WHERE ($1::uuid IS NULL OR account_id = $1) AND ($2::text IS NULL OR ${spec.stateColumn} = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $5`,
      [filter.accountId, filter.state, cursor?.createdAt ?? null, cursor?.id ?? null, limit + 1],
    );
    return this.page(rows, limit);
  }
}
