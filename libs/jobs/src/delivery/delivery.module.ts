import { Module } from '@nestjs/common';
import { InboundDeliveryWorker } from './inbound-delivery.worker';

/** Consumers of the inbound-delivery queue. */
@Module({ providers: [InboundDeliveryWorker] })
export class DeliveryModule {}
