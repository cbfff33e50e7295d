import { Module } from '@nestjs/common';
import { RateLimitGuard } from '@app/platform';
import { AuthModule } from '../auth/auth.module';
import { CallbackSendProducer } from './callback-send.producer';
import { ReplyController } from './reply.controller';
import { ReplyService } from './reply.service';

/** `POST /openclaw/reply`: validation, auth, tenant isolation, coalescing and the send job per message. */
@Module({
  imports: [AuthModule],
  controllers: [ReplyController],
  providers: [ReplyService, CallbackSendProducer, RateLimitGuard],
})
export class CallbackProxyModule {}
