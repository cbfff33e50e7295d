import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { InboundDeliveryJob, MessageEventData, messageEventData, QUEUES } from '@app/messaging';
import type { StoredMessage } from '@app/core';

export type InboundDeliveryJobData = InboundDeliveryJob & { event: MessageEventData };

/**
 * Puts a stored message whose direct publish failed on the delivery queue; the worker publishes it to the
 * account's streams, retrying with backoff. Fails fast while Redis is away: the message is already in
 * PostgreSQL and the streams catch up from there.
 */
@Injectable()
export class InboundQueueProducer {
  constructor(@InjectQueue(QUEUES.inboundDelivery) private readonly queue: Queue<InboundDeliveryJobData>) {}

  async enqueue(message: StoredMessage): Promise<void> {
    await this.queue.add(
      'deliver',
      {
        accountId: message.accountId,
        messageId: message.id,
        seq: message.seq,
        event: messageEventData(message),
      },
      {
        jobId: message.id,
        attempts: 12,
        backoff: { type: 'exponential', delay: 200 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      },
    );
  }
}
