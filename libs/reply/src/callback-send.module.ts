import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { CallbackHttpClient } from './callback-http.client';
import { CallbackSendWorker } from './callback-send.worker';
import { CallbackDns, CallbackSender } from './callback-sender';
import { CallbackSendQueue } from './callback-send.queue';
import { SendSweeper } from './send-sweeper';
import { KakaoEventApiClient } from './kakao-event.client';
import { KakaoEventWorker } from './kakao-event.worker';

/** The worker side of the callback proxy: the send job, the URL policy and HTTP client, the overdue sweep. */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule],
  providers: [
    CallbackSendWorker,
    CallbackSender,
    CallbackHttpClient,
    CallbackDns,
    SendSweeper,
    CallbackSendQueue,
    KakaoEventWorker,
    KakaoEventApiClient,
  ],
})
export class CallbackSendModule {}
