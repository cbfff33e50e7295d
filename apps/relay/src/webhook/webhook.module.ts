import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { PairingModule } from '@app/pairing';
import { ErrorBodyFilter } from '@app/platform';
import { CHANNEL_ADAPTERS } from './channel-adapters';
import { InboundQueueProducer } from './inbound-queue.producer';
import { InboundService } from './inbound.service';
import { KakaoChannelAdapter } from './kakao/kakao-channel.adapter';
import { KakaoChannelModule } from './kakao/kakao-channel.module';
import { WorksChannelAdapter } from './works/works-channel.adapter';
import { WorksChannelModule } from './works/works-channel.module';
import { WebhookHttpHandler } from './webhook-http.handler';

/**
 * Every messenger's webhook, through one pipeline: the HTTP handler (`WebhookHttpHandler`, in front of Express), the
 * channel-neutral core (`InboundService`: relay commands, limits, storing, hand-off to the agent) and one adapter
 * per channel, each in its own folder (`kakao/`, `works/`). A new messenger is a folder with its adapter module, imported
 * here and added to `CHANNEL_ADAPTERS`.
 */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule, PairingModule, KakaoChannelModule, WorksChannelModule],
  providers: [
    {
      provide: CHANNEL_ADAPTERS,
      inject: [KakaoChannelAdapter, WorksChannelAdapter],
      useFactory: (kakao: KakaoChannelAdapter, works: WorksChannelAdapter) => [kakao, works],
    },
    InboundService,
    InboundQueueProducer,
    WebhookHttpHandler,
    ErrorBodyFilter,
  ],
})
export class WebhookModule {}
