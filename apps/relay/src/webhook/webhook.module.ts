import { Module } from '@nestjs/common';
import { QUEUES, registerProducerQueue } from '@app/messaging';
import { PairingModule } from '../pairing/pairing.module';
import { InboundQueueProducer } from './inbound-queue.producer';
import { InlineReplyWaiter } from './inline-reply.waiter';
import { KakaoWebhookController } from './kakao-webhook.controller';
import { SkillAuthGuard } from './skill-auth.guard';
import { WebhookService } from './webhook.service';

/** The Kakao skill webhook: authentication, validation, relay commands, storage and hand-off to the agent. */
@Module({
  imports: [
    PairingModule,
    // Producers on the request path fail fast while Redis is away (the message is already stored).
    registerProducerQueue(QUEUES.inboundDelivery),
  ],
  controllers: [KakaoWebhookController],
  providers: [WebhookService, SkillAuthGuard, InboundQueueProducer, InlineReplyWaiter],
  exports: [InlineReplyWaiter],
})
export class WebhookModule {}
