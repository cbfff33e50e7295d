import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { AuthModule } from '@app/pairing';
import { RateLimitGuard, STREAM_ROUTE } from '@app/platform';
import { StreamsModule } from '@app/streams';
import { EventsController } from './events.controller';
import { streamRequestLog } from './stream-request-log';

/** The SSE transport: `GET /v1/events` hands an `SseTransport` to the delivery core (`StreamsModule`). */
@Module({
  imports: [AuthModule, StreamsModule],
  controllers: [EventsController],
  providers: [RateLimitGuard],
})
export class EventsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(streamRequestLog).forRoutes({ path: STREAM_ROUTE.slice(1), method: RequestMethod.GET });
  }
}
