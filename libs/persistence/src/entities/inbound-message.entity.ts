import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ChannelName, NormalizedMessage } from '@app/core';

export type { NormalizedMessage };

export type InboundStatus = 'queued' | 'delivered' | 'replied' | 'expired' | 'failed';
export const INBOUND_STATUSES: readonly InboundStatus[] = [
  'queued',
  'delivered',
  'replied',
  'expired',
  'failed',
];

/** A messenger user's message to a paired agent, kept with the full original request body. */
@Entity('inbound_messages')
export class InboundMessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  /** Per-account, strictly increasing, gap-free among committed rows; the SSE `id:` of its message event. */
  @Column({ type: 'bigint' })
  seq: string;

  @Column({ name: 'conversation_key', type: 'text' })
  conversationKey: string;

  /** The messenger it came from (`kakao`; `DEFAULT 'kakao'` for rows written before channels existed). */
  @Column({ type: 'text', default: 'kakao' })
  channel: ChannelName;

  /**
   * The request body exactly as received, whatever the channel. The column keeps its first name, `kakao_payload`,
   * so that replicas of the previous release keep storing messages during a rolling upgrade (a rename would break
   * their statements); see migration `Channels1795000000004`.
   */
  @Column({ name: 'kakao_payload', type: 'jsonb' })
  payload: unknown;

  @Column({ type: 'jsonb' })
  normalized: NormalizedMessage;

  /** Null in inline mode (the block has no callback permission). */
  @Column({ name: 'callback_url', type: 'text', nullable: true })
  callbackUrl: string | null;

  /** Duplicate detection for a channel without callbackUrl (Works: a digest of the bot and the raw body). */
  @Column({ name: 'dedupe_key', type: 'text', nullable: true })
  dedupeKey: string | null;

  /** After this instant a reply gets 409 CALLBACK_EXPIRED. */
  @Column({ name: 'reply_deadline', type: 'timestamptz' })
  replyDeadline: Date;

  /**
   * As stored: `queued` until answered, expired or failed. `delivered` is derived (queued and at or below the
   * account's `account_deliveries.delivered_seq`; view `inbound_message_states`); rows stored before delivery
   * marks may still carry it.
   */
  @Column({ type: 'varchar', length: 16 })
  status: InboundStatus;

  /** Only on rows delivered before delivery marks existed. */
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column({ name: 'replied_at', type: 'timestamptz', nullable: true })
  repliedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
