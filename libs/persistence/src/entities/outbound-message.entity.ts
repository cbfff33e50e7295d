import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { AcceptedReply, OutboundMode, OutboundStatus, SkillResponse } from '@app/core';

export type { AcceptedReply, OutboundMode, OutboundStatus };
export const OUTBOUND_STATUSES: readonly OutboundStatus[] = ['pending', 'sent', 'failed'];

/**
 * The agent's answer to one inbound message: the replies accepted for it (coalesced into one SkillResponse)
 * and the outcome of sending it to Kakao. One row per inbound message.
 */
@Entity('outbound_messages')
export class OutboundMessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'inbound_message_id', type: 'uuid' })
  inboundMessageId: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId: string;

  @Column({ type: 'varchar', length: 8 })
  mode: OutboundMode;

  @Column({ type: 'varchar', length: 16 })
  status: OutboundStatus;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  replies: AcceptedReply[];

  /** The merged SkillResponse as sent. */
  @Column({ type: 'jsonb', nullable: true })
  response: SkillResponse | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_http_status', type: 'int', nullable: true })
  lastHttpStatus: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** When the coalesced send is due (pushed back by each further reply, capped by the deadline). */
  @Column({ name: 'send_after', type: 'timestamptz', nullable: true })
  sendAfter: Date | null;

  /** Set by the send job when it takes the replies; no reply is accepted after that. */
  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
