import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Conversation, ConversationStore } from '@app/core';
import { queryRow } from '../sql';

/** The columns of a `Conversation`, named as its fields (the row is the record). */
export const CONVERSATION_COLUMNS = `id, conversation_key AS "conversationKey", channel_id AS "channelId",
  user_id AS "userId", account_id AS "accountId", state, paired_at AS "pairedAt", unpaired_at AS "unpairedAt"`;

/** `ConversationStore` on PostgreSQL (its changes are statements of `PairingRepository`'s transactions). */
@Injectable()
export class ConversationsRepository implements ConversationStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  findById(id: string): Promise<Conversation | null> {
    return queryRow<Conversation>(
      this.db,
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`,
      [id],
    );
  }

  findByKey(conversationKey: string): Promise<Conversation | null> {
    return queryRow<Conversation>(
      this.db,
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE conversation_key = $1`,
      [conversationKey],
    );
  }
}
