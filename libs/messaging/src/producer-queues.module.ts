import { Global, Module } from '@nestjs/common';
import { registerProducerQueue } from './producer-queue';
import { QUEUES } from './queues';

const queues = [registerProducerQueue(QUEUES.inboundDelivery), registerProducerQueue(QUEUES.callbackSend)];

/** The producer side of every queue, for `@InjectQueue` anywhere (fail-fast connections). */
@Global()
@Module({ imports: queues, exports: queues })
export class ProducerQueuesModule {}
