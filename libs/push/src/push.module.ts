import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { AuthModule } from '@app/pairing';
import { PersistenceModule } from '@app/persistence';
import { CallbackDns, ReplyServiceModule } from '@app/reply';
import { PushDeliverer } from './push-deliverer';
import { PushDeliveryQueue } from './push-delivery.queue';
import { PushDeliveryWorker } from './push-delivery.worker';
import { PushEndpoints } from './push-endpoints.service';
import { PushEvents } from './push-events.service';
import { PushRoutes, PushRoutesLookup } from './push-routes';
import { PushSender, PushThreadSender } from './push-send';
import { PushMessageSweeper, PushOverdueSweeper } from './push-sweepers';
import { PushUrlPolicy } from './push-url-policy';
import { PushEndpointController } from './push.controller';

/**
 * The producer side of push delivery, in every process that publishes account events (relay and worker): the
 * routing cache, the tap that turns events into deliveries and jobs, and the endpoint rules (`PushEndpoints`,
 * used by the agent's routes and the admin API).
 */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule, ReplyServiceModule],
  providers: [
    PushDeliverer,
    PushRoutes,
    { provide: PushRoutesLookup, useExisting: PushRoutes },
    PushEvents,
    PushDeliveryQueue,
    PushEndpoints,
    PushUrlPolicy,
    CallbackDns,
    { provide: PushSender, useClass: PushThreadSender },
  ],
  exports: [PushRoutes, PushEndpoints, PushDeliveryQueue, PushUrlPolicy, PushDeliverer],
})
export class PushModule {}

/** `/v1/push-endpoint` for agents (relay). */
@Module({
  imports: [PushModule, AuthModule],
  controllers: [PushEndpointController],
})
export class PushHttpModule {}

/** The worker side: the delivery job and the two sweeps (worker role, `JobsModule`). */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule, PushModule],
  providers: [PushDeliveryWorker, PushMessageSweeper, PushOverdueSweeper],
})
export class PushWorkerModule {}
