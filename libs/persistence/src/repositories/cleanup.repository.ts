import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { CleanupRunEntity } from '../entities';

/** The housekeeping statements, each bounded, each returning how many rows it touched. */
@Injectable()
export class CleanupRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(CleanupRunEntity) private readonly runs: Repository<CleanupRunEntity>,
  ) {}

  private async affected(sql: string, params: unknown[]): Promise<number> {
    const [, count] = (await this.db.query(sql, params)) as [unknown, number];
    return count;
  }

  /** Queued messages no agent took within the queue TTL (status as derived by `inbound_message_states`). */
  expireQueued(queueTtlSeconds: number): Promise<number> {
    return this.affected(
      `UPDATE inbound_messages SET status = 'expired'
        WHERE id IN (SELECT id FROM inbound_message_states
                      WHERE status = 'queued' AND created_at < now() - make_interval(secs => $1))`,
      [queueTtlSeconds],
    );
  }

  /** Delivered messages whose reply deadline passed without any reply being accepted. */
  expireUnanswered(): Promise<number> {
    return this.affected(
      `UPDATE inbound_messages m SET status = 'expired'
        WHERE m.id IN (SELECT id FROM inbound_message_states WHERE status = 'delivered' AND reply_deadline < now())
          AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.inbound_message_id = m.id)`,
      [],
    );
  }

  /** Sends that never went out (lost job, dead worker) and whose deadline is long gone. */
  failStaleSends(graceSeconds: number): Promise<number> {
    return this.affected(
      `WITH stale AS (
         UPDATE outbound_messages o SET status = 'failed', failed_at = now(), updated_at = now(),
                error = coalesce(o.error, 'not sent before the callback deadline')
           FROM inbound_messages m
          WHERE o.inbound_message_id = m.id AND o.status = 'pending'
            AND m.reply_deadline < now() - make_interval(secs => $1)
          RETURNING o.inbound_message_id
       )
       UPDATE inbound_messages SET status = 'failed' WHERE id IN (SELECT inbound_message_id FROM stale)`,
      [graceSeconds],
    );
  }

  /** Deletes at most `batch` inbound messages older than the retention (their outbound rows cascade). */
  deleteOldMessages(retentionDays: number, batch: number): Promise<number> {
    return this.affected(
      `DELETE FROM inbound_messages WHERE id IN (
         SELECT id FROM inbound_messages WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`,
      [retentionDays, batch],
    );
  }

  /** Pending sessions past expiry (the safety net; expiry itself takes effect on every use). */
  expireSessions(): Promise<number> {
    return this.affected(
      `UPDATE sessions SET status = 'expired', ended_at = now(), updated_at = now()
        WHERE status = 'pending_pairing' AND expires_at <= now()`,
      [],
    );
  }

  /** Ended sessions (expired or disconnected) older than a day. */
  deleteEndedSessions(batch: number): Promise<number> {
    return this.affected(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE status IN ('expired', 'disconnected')
            AND coalesce(ended_at, updated_at) < now() - interval '1 day' LIMIT $1)`,
      [batch],
    );
  }

  deleteOldRuns(keep: number): Promise<number> {
    return this.affected(
      `DELETE FROM cleanup_runs WHERE id NOT IN (SELECT id FROM cleanup_runs ORDER BY id DESC LIMIT $1)`,
      [keep],
    );
  }

  async recordRun(instance: string, startedAt: Date, results: Record<string, number>): Promise<void> {
    await this.runs.insert({ instance, startedAt, results });
  }

  lastRun(): Promise<CleanupRunEntity | null> {
    return this.runs.findOne({ where: {}, order: { id: 'DESC' } });
  }
}
