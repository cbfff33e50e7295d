import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CleanupRun, CleanupStore } from '@app/core';
import { affectedRows, queryRow } from '../sql';

/** `CleanupStore` on PostgreSQL: the housekeeping statements, each bounded, each returning how many rows it touched. */
@Injectable()
export class CleanupRepository implements CleanupStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Queued messages no agent took within the queue TTL (status as derived by `inbound_message_states`). */
  expireQueued(queueTtlSeconds: number): Promise<number> {
    return affectedRows(
      this.db,
      `UPDATE inbound_messages SET status = 'expired'
        WHERE id IN (SELECT id FROM inbound_message_states
                      WHERE status = 'queued' AND created_at < now() - make_interval(secs => $1))`,
      [queueTtlSeconds],
    );
  }

  /** Delivered messages whose reply deadline passed without any reply being accepted. */
  expireUnanswered(): Promise<number> {
    return affectedRows(
      this.db,
      `UPDATE inbound_messages m SET status = 'expired'
        WHERE m.id IN (SELECT id FROM inbound_message_states WHERE status = 'delivered' AND reply_deadline < now())
          AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.inbound_message_id = m.id)`,
    );
  }

  /** Sends that never went out (lost job, dead worker) and whose deadline is long gone. */
  failStaleSends(graceSeconds: number): Promise<number> {
    return affectedRows(
      this.db,
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

  /** Deletes at most `limit` inbound messages older than the retention (their outbound rows cascade). */
  deleteOldMessages(retentionDays: number, limit: number): Promise<number> {
    return affectedRows(
      this.db,
      // With the messages go, as old and as many: a messenger's recorded events, the Works sends that answer no
      // message (pairing hints, command answers; the others go with their message), and push deliveries.
      `WITH events AS (
         DELETE FROM channel_events WHERE id IN (
           SELECT id FROM channel_events WHERE created_at < now() - make_interval(days => $1) LIMIT $2)
       ), sends AS (
         DELETE FROM works_sends WHERE id IN (
           SELECT id FROM works_sends
            WHERE inbound_message_id IS NULL AND status IN ('sent', 'failed')
              AND created_at < now() - make_interval(days => $1) LIMIT $2)
       ), pushes AS (
         -- push deliveries: those of messages whatever their state (their message goes: nothing is left to send;
         -- no foreign key removes them, see migration 1795000000014), those of other events once finished
         DELETE FROM push_deliveries WHERE id IN (
           SELECT id FROM push_deliveries
            WHERE created_at < now() - make_interval(days => $1)
              AND (message_id IS NOT NULL OR status IN ('delivered', 'failed')) LIMIT $2)
       )
       DELETE FROM inbound_messages WHERE id IN (
         SELECT id FROM inbound_messages WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`,
      [retentionDays, limit],
    );
  }

  deleteOldRuns(keep: number): Promise<number> {
    return affectedRows(
      this.db,
      `DELETE FROM cleanup_runs WHERE id NOT IN (SELECT id FROM cleanup_runs ORDER BY id DESC LIMIT $1)`,
      [keep],
    );
  }

  async recordRun(instance: string, startedAt: Date, results: Record<string, number>): Promise<void> {
    await affectedRows(
      this.db,
      `INSERT INTO cleanup_runs (instance, started_at, results) VALUES ($1, $2, $3)`,
      [instance, startedAt, JSON.stringify(results)],
    );
  }

  lastRun(): Promise<CleanupRun | null> {
    return queryRow<CleanupRun>(
      this.db,
      `SELECT instance, started_at AS "startedAt", finished_at AS "finishedAt", results
         FROM cleanup_runs ORDER BY id DESC LIMIT 1`,
    );
  }
}
