import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { ConversationIdentity } from '@app/core';
import { ConversationEntity } from '../entities';

@Injectable()
export class ConversationsRepository {
  constructor(@InjectRepository(ConversationEntity) private readonly repo: Repository<ConversationEntity>) {}

  findById(id: string): Promise<ConversationEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  findByKey(conversationKey: string): Promise<ConversationEntity | null> {
    return this.repo.findOne({ where: { conversationKey } });
  }

  /** Locks the conversation row (if any) so that pair/unpair of one conversation serialise. */
  lockByKey(manager: EntityManager, conversationKey: string): Promise<ConversationEntity | null> {
    return manager
      .getRepository(ConversationEntity)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.conversation_key = :conversationKey', { conversationKey })
      .getOne();
  }

  async upsertPaired(
    manager: EntityManager,
    identity: ConversationIdentity,
    accountId: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO conversations (conversation_key, channel_id, user_id, account_id, state, paired_at)
       VALUES ($1, $2, $3, $4, 'paired', now())
       ON CONFLICT (conversation_key) DO UPDATE
         SET account_id = EXCLUDED.account_id, state = 'paired', paired_at = now(), unpaired_at = NULL,
             updated_at = now()`,
      [identity.conversationKey, identity.channelId, identity.userId, accountId],
    );
  }

  async deleteById(manager: EntityManager, id: string): Promise<boolean> {
    const [, affected] = (await manager.query(`DELETE FROM conversations WHERE id = $1`, [id])) as [
      unknown,
      number,
    ];
    return affected > 0;
  }

  async markUnpaired(manager: EntityManager, conversationKey: string): Promise<void> {
    await manager.query(
      `UPDATE conversations SET state = 'unpaired', unpaired_at = now(), updated_at = now()
        WHERE conversation_key = $1`,
      [conversationKey],
    );
  }

  async countPairedForAccount(manager: EntityManager, accountId: string): Promise<number> {
    const rows: Array<{ n: string }> = await manager.query(
      `SELECT count(*) AS n FROM conversations WHERE account_id = $1 AND state = 'paired'`,
      [accountId],
    );
    return Number(rows[0].n);
  }
}
