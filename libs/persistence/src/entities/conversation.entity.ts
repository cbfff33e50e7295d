import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ConversationState } from '@app/core';

/** The mapping from one Kakao user on one channel (conversationKey) to the account it is paired with. */
@Entity('conversations')
export class ConversationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'conversation_key', type: 'text' })
  conversationKey: string;

  @Column({ name: 'channel_id', type: 'text' })
  channelId: string;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @Column({ type: 'varchar', length: 16 })
  state: ConversationState;

  @Column({ name: 'paired_at', type: 'timestamptz', nullable: true })
  pairedAt: Date | null;

  @Column({ name: 'unpaired_at', type: 'timestamptz', nullable: true })
  unpairedAt: Date | null;

  @Column({ name: 'last_message_at', type: 'timestamptz', nullable: true })
  lastMessageAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
