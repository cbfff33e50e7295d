import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES, SELF_DELAYING_JOB_OPTIONS, WorksSendJob, worksSendJobId } from '@app/messaging';

/**
 * One job per Works message (deterministic id: queuing it again while it exists is a no-op). Its waits (order,
 * 429, backoff) are the job delaying itself, not BullMQ attempts; the attempts here are for errors the job
 * throws (PostgreSQL or Redis away). Nothing is kept in Redis afterwards: the outcome is in `works_sends`.
 */
@Injectable()
export class WorksSendQueue {
  constructor(@InjectQueue(QUEUES.worksSend) private readonly queue: Queue<WorksSendJob>) {}

  async add(sendIds: string[]): Promise<void> {
    if (sendIds.length === 0) return;
    await this.queue.addBulk(
      sendIds.map((sendId) => ({
        name: 'send',
        data: { sendId },
        opts: { ...SELF_DELAYING_JOB_OPTIONS, jobId: worksSendJobId(sendId) },
      })),
    );
  }
}
