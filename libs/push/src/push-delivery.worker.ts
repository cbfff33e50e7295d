import { Inject, Injectable } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { Clock, PushDeliveryStore } from '@app/core';
import { PushDeliveryJob, QueueWorker, QUEUES } from '@app/messaging';
import { PushDeliverer } from './push-deliverer';

type Outcome = 'delivered' | 'failed' | 'disabled' | 'skipped';

/**
 * The delivery job of one delivery: waits until the row's next try is due, runs one attempt (`PushDeliverer`)
 * and, when it is to be tried again, delays itself until then (`moveToDelayed`; BullMQ's own attempts are for
 * errors the job throws: PostgreSQL or Redis away).
 */
@Injectable()
export class PushDeliveryWorker extends QueueWorker<PushDeliveryJob, Outcome> {
  protected readonly queueName = QUEUES.pushDelivery;
  protected override readonly concurrency = 64;
  // A relay killed mid-attempt: its active jobs run again within seconds, not BullMQ's default 30 s.
  protected override readonly stallOptions = { lockDuration: 10_000, stalledInterval: 5_000 };

  constructor(
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly deliveries: PushDeliveryStore,
    private readonly deliverer: PushDeliverer,
    private readonly clock: Clock,
  ) {
    super(config);
  }

  async process(job: Job<PushDeliveryJob, Outcome>, token?: string): Promise<Outcome> {
    const delivery = await this.deliveries.find(job.data.deliveryId);
    if (!delivery || delivery.status !== 'pending') return 'skipped';
    const due = delivery.nextAttemptAt?.getTime() ?? 0;
    if (due > this.clock.now() + 5) return this.delay(job, due, token);
    const outcome = await this.deliverer.attempt(delivery);
    if (outcome.kind === 'retry') return this.delay(job, outcome.retryAt, token);
    return outcome.kind;
  }

  private async delay(job: Job<PushDeliveryJob, Outcome>, at: number, token?: string): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }
}
