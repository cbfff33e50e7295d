import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { WorksSendModule } from '@app/works';
import { CallbackSendQueue } from './callback-send.queue';
import { HeldAnswersService } from './held-answers.service';
import { KakaoEventQueue } from './kakao-event.queue';
import { ReplyService } from './reply.service';

/**
 * `ReplyService` without the HTTP route (with what it needs: the send queue, held answers and their Event API
 * queue): for `POST /openclaw/reply` and for whatever else accepts an agent's answer under the same rules (push
 * delivery's sync reply, server-mode §2), in the relay or the worker role.
 */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule, WorksSendModule],
  providers: [ReplyService, CallbackSendQueue, HeldAnswersService, KakaoEventQueue],
  exports: [ReplyService, HeldAnswersService],
})
export class ReplyServiceModule {}
