import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An agent's identity on the relay: created when a Kakao user first pairs with a pairing session. */
@Entity('accounts')
export class AccountEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** SHA-256 of the account relay token minted from the admin API, if any. */
  @Column({ name: 'relay_token_hash', type: 'char', length: 64, nullable: true })
  relayTokenHash: string | null;

  /** Last per-account message sequence number handed out (inbound_messages.seq). */
  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
