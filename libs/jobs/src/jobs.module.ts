import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CallbackSendModule } from '@app/reply';
import { WorksSendWorkerModule } from '@app/works';
import { PushWorkerModule } from '@app/push';
import { CleanupModule } from './cleanup/cleanup.module';
import { DeliveryModule } from './delivery/delivery.module';

/**
 * The worker role: BullMQ processors (inbound delivery fallback, Kakao callback sends, Naver Works sends) and
 * scheduled jobs. Runs as its own deployable (apps/worker) or inside
 * the relay process for a single-machine install (`WORKER_IN_PROCESS=true`, the default of `npm start`).
 */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    DeliveryModule,
    CallbackSendModule,
    WorksSendWorkerModule,
    PushWorkerModule,
    CleanupModule,
  ],
})
export class JobsModule {}
