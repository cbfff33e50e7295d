import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { QUEUES } from '@app/messaging';
import { RelayMetrics } from './relay-metrics';

const STATES = ['waiting', 'delayed', 'active', 'failed'] as const;

/** `relay_queue_jobs{queue,state}`, read from Redis when Prometheus scrapes. */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: RelayMetrics,
    @InjectQueue(QUEUES.inboundDelivery) private readonly inbound: Queue,
    @InjectQueue(QUEUES.callbackSend) private readonly callbacks: Queue,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('relay_queue_jobs', 'Jobs per queue and state', ['queue', 'state'], async (gauge) => {
      for (const queue of [this.inbound, this.callbacks]) {
        try {
          const counts = await queue.getJobCounts(...STATES);
          for (const state of STATES) gauge.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch {
          // Redis away: leave the last values; /health/ready tells the story.
        }
      }
    });
  }
}
