import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Clock, ReplyStore } from '@app/core';
import { CallbackSendQueue } from './callback-send.queue';

const SWEEP_EVERY_MS = 2000;
const OVERDUE_AFTER_MS = 2000;
const SWEEP_BATCH = 200;

/**
 * Nothing accepted is lost: a reply whose send job could not be queued (Redis away at that moment) stays
 * `pending` in PostgreSQL; this sweep queues overdue pending sends again. Idempotent (deterministic job id), so
 * every worker replica may run it.
 */
@Injectable()
export class SendSweeper {
  private readonly logger = new Logger(SendSweeper.name);
  private running = false;

  constructor(
    private readonly store: ReplyStore,
    private readonly sends: CallbackSendQueue,
    private readonly clock: Clock,
  ) {}

  @Interval(SWEEP_EVERY_MS)
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const ids = await this.store.findOverdueMessageIds(
        new Date(this.clock.now() - OVERDUE_AFTER_MS),
        SWEEP_BATCH,
      );
      for (const messageId of ids) await this.sends.scheduleNow(messageId);
      if (ids.length > 0) this.logger.log(`re-queued ${ids.length} overdue reply sends`);
      return ids.length;
    } catch (e) {
      this.logger.debug(`send sweep skipped: ${(e as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
