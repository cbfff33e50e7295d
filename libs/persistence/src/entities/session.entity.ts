import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { SessionStatus } from '@app/core';

/** A pairing session: the agent's credential (its token) and, while pending, a one-use pairing code. */
@Entity('sessions')
export class SessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  /** Stored without the hyphen; unique among pending sessions. */
  @Column({ name: 'pairing_code', type: 'varchar', length: 8 })
  pairingCode: string;

  @Column({ type: 'varchar', length: 20 })
  status: SessionStatus;

  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'paired_at', type: 'timestamptz', nullable: true })
  pairedAt: Date | null;

  @Column({ name: 'kakao_user_id', type: 'text', nullable: true })
  kakaoUserId: string | null;

  @Column({ name: 'conversation_key', type: 'text', nullable: true })
  conversationKey: string | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
