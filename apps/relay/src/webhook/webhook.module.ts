import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { PairingModule } from '@app/pairing';
import { InboundQueueProducer } from './inbound-queue.producer';
import { InlineReplyWaiter } from './inline-reply.waiter';
import { KakaoWebhookController } from './kakao-webhook.controller';
import { SkillAuthGuard } from './skill-auth.guard';
import { WebhookAdmission } from './webhook-admission';
import { WebhookHttpHandler } from './webhook-http.handler';
import { WebhookService } from './webhook.service';

/** The Kakao skill webhook: authentication, validation, relay commands, storage and hand-off to the agent. */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule, PairingModule],
  controllers: [KakaoWebhookController],
  providers: [
    WebhookService,
    WebhookAdmission,
    WebhookHttpHandler,
    SkillAuthGuard,
    InboundQueueProducer,
    InlineReplyWaiter,
  ],
  exports: [InlineReplyWaiter],
})
export class WebhookModule {}
