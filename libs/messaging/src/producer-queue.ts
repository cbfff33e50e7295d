import { BullModule } from '@nestjs/bullmq';
import { DynamicModule } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { producerConnection } from './queue-worker';
import { QueueName } from './queues';

/** Registers a queue for `@InjectQueue` with a fail-fast connection (producers on the request path). */
export function registerProducerQueue(name: QueueName): DynamicModule {
  return BullModule.registerQueueAsync({
    name,
    inject: [RELAY_CONFIG],
    useFactory: (config: RelayConfig) => ({
      prefix: config.redisPrefix,
      connection: producerConnection(config),
    }),
  });
}
