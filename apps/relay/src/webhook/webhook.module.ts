import { Module } from '@nestjs/common';
import { PairingModule } from '../pairing/pairing.module';
import { InboundQueueProducer } from './inbound-queue.producer';
import { InlineReplyWaiter } from './inline-reply.waiter';
import { KakaoWebhookController } from './kakao-webhook.controller';
import { SkillAuthGuard } from './skill-auth.guard';
import { WebhookAdmission } from './webhook-admission';
import { WebhookHttpHandler } from './webhook-http.handler';
import { WebhookService } from './webhook.service';

/** The Kakao skill webhook: authentication, validation, relay commands, storage and hand-off to the agent. */
@Module({
  imports: [PairingModule],
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
