import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  Conversation,
  ConversationIdentity,
  PairingStore,
  PairingTransaction,
  Session,
  SessionPairing,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';
import { CONVERSATION_COLUMNS } from './conversations.repository';
import { SESSION_COLUMNS } from './sessions.repository';

/** The statements of one pairing transaction, on its `EntityManager`. */
class PgPairingTransaction implements PairingTransaction {
  constructor(private readonly tx: EntityManager) {}

  lockPendingSessionByCode(pairingCode: string): Promise<Session | null> {
    return queryRow<Session>(
      this.tx,
      `SELECT ${SESSION_COLUMNS} FROM sessions
        WHERE pairing_code = $1 AND status = 'pending_pairing'
        FOR UPDATE`,
      [pairingCode],
    );
  }

  lockConversationByKey(conversationKey: string): Promise<Conversation | null> {
    return queryRow<Conversation>(
      this.tx,
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE conversation_key = $1 FOR UPDATE`,
      [conversationKey],
    );
  }

  lockConversationById(id: string): Promise<Conversation | null> {
    return queryRow<Conversation>(
      this.tx,
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 FOR UPDATE`,
      [id],
    );
  }

  async createAccount(): Promise<string> {
    const row = await queryRow<{ id: string }>(this.tx, `INSERT INTO accounts DEFAULT VALUES RETURNING id`);
    if (!row) throw new Error('INSERT INTO accounts returned no row');
    return row.id;
  }

  async pairConversation(identity: ConversationIdentity, accountId: string): Promise<void> {
    await affectedRows(
      this.tx,
      `INSERT INTO conversations (conversation_key, channel_id, user_id, account_id, state, paired_at)
       VALUES ($1, $2, $3, $4, 'paired', now())
       ON CONFLICT (conversation_key) DO UPDATE
         SET account_id = EXCLUDED.account_id, state = 'paired', paired_at = now(), unpaired_at = NULL,
             updated_at = now()`,
      [identity.conversationKey, identity.channelId, identity.userId, accountId],
    );
  }

  async unpairConversation(conversationKey: string): Promise<void> {
    await affectedRows(
      this.tx,
      `UPDATE conversations SET state = 'unpaired', unpaired_at = now(), updated_at = now()
        WHERE conversation_key = $1`,
      [conversationKey],
    );
  }

  async deleteConversation(id: string): Promise<boolean> {
    return (await affectedRows(this.tx, `DELETE FROM conversations WHERE id = $1`, [id])) > 0;
  }

  async markSessionPaired(sessionId: string, pairing: SessionPairing): Promise<Date> {
    const row = await queryRow<{ paired_at: Date }>(
      this.tx,
      `UPDATE sessions
          SET status = 'paired', account_id = $2, kakao_user_id = $3, conversation_key = $4,
              paired_at = now(), updated_at = now()
        WHERE id = $1
        RETURNING paired_at`,
      [sessionId, pairing.accountId, pairing.kakaoUserId, pairing.conversationKey],
    );
    if (!row) throw new Error(`session ${sessionId} vanished while locked`);
    return row.paired_at;
  }

  async countPairedConversations(accountId: string): Promise<number> {
    const row = await queryRow<{ n: number }>(
      this.tx,
      `SELECT count(*)::int AS n FROM conversations WHERE account_id = $1 AND state = 'paired'`,
      [accountId],
    );
    return row?.n ?? 0;
  }

  async disconnectPairedSessions(accountId: string): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.tx,
      `UPDATE sessions SET status = 'disconnected', ended_at = now(), updated_at = now()
        WHERE account_id = $1 AND status = 'paired'
        RETURNING id`,
      [accountId],
    );
    return rows.map((r) => r.id);
  }
}

/** `PairingStore` on PostgreSQL: each unit of work is one database transaction (READ COMMITTED, row locks). */
@Injectable()
export class PairingRepository implements PairingStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: PairingTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((manager) => work(new PgPairingTransaction(manager)));
  }
}
