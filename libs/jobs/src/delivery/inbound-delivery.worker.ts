import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import {
  InboundDeliveryJob,
  MessageEventData,
  QueueWorker,
  QUEUES,
  StreamEventPublisher,
} from '@app/messaging';
import { Inject } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';

type Data = InboundDeliveryJob & { event: MessageEventData };

/**
 * Carries a stored inbound message to its account's streams: one Pub/Sub publish, retried with backoff by
 * BullMQ when Redis refuses it. Streams order, de-duplicate and mark delivery themselves. The account's taps are
 * not told again (push delivery attempted the message already, or its sweep will).
 */
@Injectable()
export class InboundDeliveryWorker extends QueueWorker<Data, number> {
  protected readonly queueName = QUEUES.inboundDelivery;
  protected override readonly concurrency = 32;

  constructor(
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly publisher: StreamEventPublisher,
  ) {
    super(config);
  }

  process(job: Job<Data, number>): Promise<number> {
    const { accountId, seq, event } = job.data;
    // The taps (push delivery) heard of the message when the storing process first tried to publish it.
    return this.publisher.toAccount(accountId, { kind: 'message', seq, data: event }, { taps: false });
  }
}
