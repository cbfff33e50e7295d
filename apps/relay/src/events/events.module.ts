import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { RateLimitGuard, STREAM_ROUTE } from '@app/platform';
import { AuthModule } from '@app/pairing';
import { PairingModule } from '@app/pairing';
import { DeliveryMarker } from './delivery-marker';
import { EventsController } from './events.controller';
import { StreamHub } from './stream-hub.service';
import { streamRequestLog } from './stream-request-log';

/** The SSE broker: agent streams, replay, live fan-out from Redis, delivery marking. */
@Module({
  imports: [PersistenceModule, AuthModule, PairingModule],
  controllers: [EventsController],
  providers: [StreamHub, DeliveryMarker, RateLimitGuard],
  exports: [StreamHub],
})
export class EventsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(streamRequestLog).forRoutes({ path: STREAM_ROUTE.slice(1), method: RequestMethod.GET });
  }
}
