import { Inject, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Job, Worker, WorkerOptions } from 'bullmq';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { redisOptionsFromUrl, retryStrategy } from './redis-options';

/**
 * One class per queue consumer. We create the BullMQ Worker ourselves rather than through `@Processor`, because
 * the explorer would hand the worker the *producer's* connection options (which fail fast while Redis is away,
 * right for the request path, wrong for a blocking consumer). Workers reconnect forever and close on shutdown.
 */
export abstract class QueueWorker<T = unknown, R = unknown> implements OnModuleInit, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  protected abstract readonly queueName: string;
  protected readonly concurrency: number = 16;
  /** Lock and stall-check settings a consumer may tighten (how soon a dead process's active jobs run again). */
  protected readonly stallOptions: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'> = {};
  private worker?: Worker<T, R>;

  constructor(@Inject(RELAY_CONFIG) protected readonly config: RelayConfig) {}

  abstract process(job: Job<T, R>, token?: string): Promise<R>;

  onModuleInit(): void {
    this.worker = new Worker<T, R>(this.queueName, (job, token) => this.process(job, token), {
      connection: { ...redisOptionsFromUrl(this.config.redisUrl), maxRetriesPerRequest: null, retryStrategy },
      prefix: this.config.redisPrefix,
      concurrency: this.concurrency,
      ...this.stallOptions,
    });
    this.worker.on('error', (err) => this.logger.warn(`worker error: ${err.message}`));
    this.worker.on('failed', (job, err) => {
      if (job) this.logger.warn(`job ${job.id} failed (attempt ${job.attemptsMade}): ${err.message}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}

/** Options for a producer queue on the request path: commands fail at once while Redis is unreachable. */
export function producerConnection(config: RelayConfig) {
  return {
    ...redisOptionsFromUrl(config.redisUrl),
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy,
  };
}
