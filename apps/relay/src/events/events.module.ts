import { Module } from '@nestjs/common';
import { RateLimitGuard } from '@app/platform';
import { AuthModule } from '../auth/auth.module';
import { PairingModule } from '../pairing/pairing.module';
import { DeliveryMarker } from './delivery-marker';
import { EventsController } from './events.controller';
import { StreamHub } from './stream-hub.service';

/** The SSE broker: agent streams, replay, live fan-out from Redis, delivery marking. */
@Module({
  imports: [AuthModule, PairingModule],
  controllers: [EventsController],
  providers: [StreamHub, DeliveryMarker, RateLimitGuard],
  exports: [StreamHub],
})
export class EventsModule {}
