import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A registered Naver Works bot; the `*_sealed` columns hold `SecretBox` values (`v1:<iv>:<tag>:<ciphertext>`). */
@Entity('works_bots')
export class WorksBotEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'bot_id', type: 'text', unique: true })
  botId: string;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'bot_secret_sealed', type: 'text' })
  botSecretSealed: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ name: 'client_secret_sealed', type: 'text' })
  clientSecretSealed: string;

  @Column({ name: 'service_account', type: 'text' })
  serviceAccount: string;

  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
