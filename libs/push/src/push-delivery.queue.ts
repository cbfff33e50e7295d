import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { PushDeliveryJob, pushDeliveryJobId, QUEUES, SELF_DELAYING_JOB_OPTIONS } from '@app/messaging';

/**
 * One job per delivery (deterministic id: queuing it again while it exists is a no-op). Retries are the job
 * delaying itself (`moveToDelayed`) on the schedule of server-mode §2, not BullMQ attempts; those are for errors
 * the job throws (PostgreSQL or Redis away). Nothing is kept in Redis afterwards: the log is `push_deliveries`.
 */
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
          ...SELF_DELAYING_JOB_OPTIONS,
          jobId: pushDeliveryJobId(deliveryId),
          ...(delayMs > 0 ? { delay: delayMs } : {}),
        },
      })),
    );
  }
}
