import { Module } from '@nestjs/common';
import { registerProducerQueue } from './producer-queue';
import { QUEUES } from './queues';

const queues = [
  registerProducerQueue(QUEUES.inboundDelivery),
  registerProducerQueue(QUEUES.callbackSend),
  registerProducerQueue(QUEUES.worksSend),
  registerProducerQueue(QUEUES.kakaoEvent),
  registerProducerQueue(QUEUES.pushDelivery),
];

/** The producer side of every queue (fail-fast connections), imported by each module that queues work. */
@Module({ imports: queues, exports: queues })
export class ProducerQueuesModule {}
