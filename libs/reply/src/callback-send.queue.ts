import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { Clock } from '@app/core';
import { CallbackSendJob, callbackSendJobId, QUEUES } from '@app/messaging';

/**
 * The options of every send job, whoever queues it: one job per message (deterministic id, so queuing it again
 * while it waits is a no-op), three attempts half a second apart for errors the job itself throws (PostgreSQL or
 * Redis away; Kakao's own refusals are recorded, not thrown), and nothing kept in Redis afterwards — the outcome
 * is in PostgreSQL.
 */
export const CALLBACK_SEND_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 500 },
  removeOnComplete: true,
  removeOnFail: true,
} as const satisfies JobsOptions;

/**
 * The one place that queues a message's send job: the reply endpoint schedules it at the coalescing instant, the
 * worker's sweep queues it again when it was lost. Later replies do not move a queued job: it re-reads
 * `send_after` when it runs and puts itself back if the quiet time was extended.
 */
@Injectable()
export class CallbackSendQueue {
  constructor(
    @InjectQueue(QUEUES.callbackSend) private readonly queue: Queue<CallbackSendJob>,
    private readonly clock: Clock,
  ) {}

  /** Queues the send of `messageId` to run at `sendAfter`, or at once if that instant has passed. */
  async schedule(messageId: string, sendAfter: Date): Promise<void> {
    await this.queue.add(
      'send',
      { messageId },
      {
        ...CALLBACK_SEND_JOB_OPTIONS,
        jobId: callbackSendJobId(messageId),
        delay: Math.max(0, sendAfter.getTime() - this.clock.now()),
      },
    );
  }

  /** Queues the send of `messageId` to run at once (an overdue send whose job was lost). */
  scheduleNow(messageId: string): Promise<void> {
    return this.schedule(messageId, this.clock.date());
  }
}
