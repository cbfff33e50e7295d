import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { RateLimitGuard } from '@app/platform';
import { AuthModule, PairingModule } from '@app/pairing';
import { WorksSendModule } from '@app/works';
import { CallbackSendQueue } from './callback-send.queue';
import { HeldAnswersService } from './held-answers.service';
import { KakaoEventQueue } from './kakao-event.queue';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';
import { ReplyController } from './reply.controller';
import { ReplyService } from './reply.service';

/**
 * `POST /openclaw/reply`: validation, auth, tenant isolation, coalescing and the send job per message (Kakao), or
 * the hand-over to the Works send path (`WorksSender`) for a Naver Works message.
 */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule, AuthModule, PairingModule, WorksSendModule],
  controllers: [ReplyController, MessagesController],
  providers: [
    ReplyService,
    CallbackSendQueue,
    RateLimitGuard,
    HeldAnswersService,
    KakaoEventQueue,
    MessagesService,
  ],
})
export class CallbackProxyModule {}
