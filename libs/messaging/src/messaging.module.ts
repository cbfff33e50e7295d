import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { AccountEventTaps } from './account-event-taps';
import { PubSubService } from './pubsub.service';
import { RateLimiter } from './rate-limiter';
import { StreamEventPublisher } from './stream-event.publisher';
import { StreamPresence } from './stream-presence';
import { StreamSlots } from './stream-slots';
import { redisOptionsFromUrl, retryStrategy } from './redis-options';
import { RedisService } from './redis.service';

/** Redis connections, Pub/Sub fan-out and the BullMQ root connection. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RELAY_CONFIG],
      useFactory: (config: RelayConfig) => ({
        prefix: config.redisPrefix,
        connection: { ...redisOptionsFromUrl(config.redisUrl), maxRetriesPerRequest: null, retryStrategy },
      }),
    }),
  ],
  providers: [
    AccountEventTaps,
    RedisService,
    PubSubService,
    RateLimiter,
    StreamEventPublisher,
    StreamPresence,
    StreamSlots,
  ],
  exports: [
    AccountEventTaps,
    RedisService,
    PubSubService,
    RateLimiter,
    StreamEventPublisher,
    StreamPresence,
    StreamSlots,
    BullModule,
  ],
})
export class MessagingModule {}
