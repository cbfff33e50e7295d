import type { CleanupRun } from '../domain/cleanup-run';

/** The housekeeping statements, each bounded, each returning how many rows it touched. */
export abstract class CleanupStore {
  /** Queued messages no agent took within the queue TTL. */
  abstract expireQueued(queueTtlSeconds: number): Promise<number>;

  /** Delivered messages whose reply deadline passed without any reply being accepted. */
  abstract expireUnanswered(): Promise<number>;

  /** Sends that never went out (lost job, dead worker) and whose deadline is `graceSeconds` gone. */
  abstract failStaleSends(graceSeconds: number): Promise<number>;

  /**
   * Deletes at most `limit` inbound messages older than the retention (their replies go with them), and as many
   * recorded channel events and Works sends that answer no message.
   */
  abstract deleteOldMessages(retentionDays: number, limit: number): Promise<number>;

  /** Keeps the last `keep` run records. */
  abstract deleteOldRuns(keep: number): Promise<number>;

  abstract recordRun(instance: string, startedAt: Date, results: Record<string, number>): Promise<void>;

  abstract lastRun(): Promise<CleanupRun | null>;
}
