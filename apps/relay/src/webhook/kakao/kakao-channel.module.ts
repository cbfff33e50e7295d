import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { InlineReplyWaiter } from './inline-reply.waiter';
import { KakaoAdmission } from './kakao-admission';
import { KakaoChannelAdapter } from './kakao-channel.adapter';

/** The Kakao i OpenBuilder channel: its adapter and what only it needs. */
@Module({
  imports: [PersistenceModule],
  providers: [KakaoChannelAdapter, KakaoAdmission, InlineReplyWaiter],
  exports: [KakaoChannelAdapter],
})
export class KakaoChannelModule {}
