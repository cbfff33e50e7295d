import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('cleanup_runs')
export class CleanupRunEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'text' })
  instance: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', default: () => 'now()' })
  finishedAt: Date;

  @Column({ type: 'jsonb' })
  results: Record<string, number>;
}
