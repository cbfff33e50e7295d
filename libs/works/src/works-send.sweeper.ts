import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Clock, WorksSendStore } from '@app/core';
import { WorksSendQueue } from './works-send.queue';

export const WORKS_SWEEP_EVERY_MS = 5000;
/** A send unfinished this long after it was stored may have lost its job (Redis lost it, or never took it). */
export const WORKS_SEND_OVERDUE_AFTER_MS = 10_000;
const SWEEP_BATCH = 200;

/**
 * Nothing accepted is lost: a Works send whose job was never queued (Redis away when it was stored) or was lost
 * (Redis restarted without its data) stays `queued` or `retrying` in PostgreSQL; this sweep queues the job of every
 * such send again. Queuing is idempotent (one job id per send: a job that exists is left alone), so every worker
 * replica may run it.
 */
@Injectable()
export class WorksSendSweeper {
  private readonly logger = new Logger(WorksSendSweeper.name);
  private running = false;

  constructor(
    private readonly store: WorksSendStore,
    private readonly queue: WorksSendQueue,
    private readonly clock: Clock,
  ) {}

  @Interval(WORKS_SWEEP_EVERY_MS)
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const ids = await this.store.findUnfinished(
        new Date(this.clock.now() - WORKS_SEND_OVERDUE_AFTER_MS),
        SWEEP_BATCH,
      );
      await this.queue.add(ids);
      return ids.length;
    } catch (e) {
      this.logger.debug(`Works send sweep skipped: ${(e as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
