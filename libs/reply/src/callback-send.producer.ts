import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { CallbackSendJob, callbackSendJobId, QUEUES } from '@app/messaging';

/**
 * Schedules the one send job of a message at its coalescing instant. Later replies do not move the job: it
 * re-reads `send_after` when it runs and puts itself back if the quiet time was extended.
 */
@Injectable()
export class CallbackSendProducer {
  constructor(@InjectQueue(QUEUES.callbackSend) private readonly queue: Queue<CallbackSendJob>) {}

  async schedule(messageId: string, sendAfter: Date): Promise<void> {
    await this.queue.add(
      'send',
      { messageId },
      {
        jobId: callbackSendJobId(messageId),
        delay: Math.max(0, sendAfter.getTime() - Date.now()),
        attempts: 3,
        backoff: { type: 'fixed', delay: 500 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }
}
