import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { PushDeliveryJob, pushDeliveryJobId, QUEUES } from '@app/messaging';

/**
 * One job per delivery (deterministic id: queuing it again while it exists is a no-op). Retries are the job
 * delaying itself (`moveToDelayed`) on the schedule of server-mode §2, not BullMQ attempts; those are for errors
 * the job throws (PostgreSQL or Redis away). Nothing is kept in Redis afterwards: the log is `push_deliveries`.
 */
export const PUSH_DELIVERY_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
} as const satisfies JobsOptions;

@Injectable()
export class PushDeliveryQueue {
  constructor(@InjectQueue(QUEUES.pushDelivery) private readonly queue: Queue<PushDeliveryJob>) {}

  /** Queues the deliveries' jobs, to run after `delayMs` (a retry after a direct attempt). */
  async add(deliveryIds: string[], delayMs = 0): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.queue.addBulk(
      deliveryIds.map((deliveryId) => ({
        name: 'deliver',
        data: { deliveryId },
        opts: {
          ...PUSH_DELIVERY_JOB_OPTIONS,
          jobId: pushDeliveryJobId(deliveryId),
          ...(delayMs > 0 ? { delay: delayMs } : {}),
        },
      })),
    );
  }
}
