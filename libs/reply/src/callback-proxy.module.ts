import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { RateLimitGuard } from '@app/platform';
import { AuthModule, PairingModule } from '@app/pairing';
import { WorksSendModule } from '@app/works';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';
import { ReplyCommand } from './reply-command';
import { ReplyController } from './reply.controller';
import { ReplyServiceModule } from './reply-service.module';

/**
 * `POST /openclaw/reply`: validation, auth, tenant isolation, coalescing and the send job per message (Kakao), or
 * the hand-over to the Works send path (`WorksSender`) for a Naver Works message. `ReplyCommand` is the same
 * handling for replies that come over the agent socket.
 */
@Module({
  imports: [
    PersistenceModule,
    ProducerQueuesModule,
    AuthModule,
    PairingModule,
    WorksSendModule,
    ReplyServiceModule,
  ],
  controllers: [ReplyController, MessagesController],
  providers: [RateLimitGuard, MessagesService, ReplyCommand],
  exports: [ReplyCommand],
})
export class CallbackProxyModule {}
