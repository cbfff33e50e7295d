import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CallbackSendModule } from '@app/reply';
import { CleanupModule } from './cleanup/cleanup.module';
import { DeliveryModule } from './delivery/delivery.module';

/**
 * The worker role: BullMQ processors and scheduled jobs. Runs as its own deployable (apps/worker) or inside
 * the relay process for a single-machine install (`WORKER_IN_PROCESS=true`, the default of `npm start`).
 */
@Module({
  imports: [ScheduleModule.forRoot(), DeliveryModule, CallbackSendModule, CleanupModule],
})
export class JobsModule {}
