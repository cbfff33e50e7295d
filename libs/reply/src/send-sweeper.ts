import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { OutboundMessagesRepository } from '@app/persistence';
import { CallbackSendQueue } from './callback-send.queue';

const SWEEP_EVERY_MS = 2000;
const OVERDUE_AFTER_MS = 2000;

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
    private readonly outbound: OutboundMessagesRepository,
    private readonly sends: CallbackSendQueue,
  ) {}

  @Interval(SWEEP_EVERY_MS)
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const ids = await this.outbound.findOverdueMessageIds(OVERDUE_AFTER_MS, 200);
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
