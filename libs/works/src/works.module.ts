import { Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { WorksAccessTokens } from './works-access-tokens';
import { WorksApiClient } from './works-api.client';
import { WorksAuthClient } from './works-auth.client';
import { WorksSendQueue } from './works-send.queue';
import { WorksSendWorker } from './works-send.worker';
import { WorksSender } from './works-sender';
import { WorksSendSweeper } from './works-send.sweeper';
import { RedisWorksTokenCache, WorksTokenCache } from './works-token.cache';

/** The producer side of the Works send path: `WorksSender`, for the relay's request path. */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule],
  providers: [WorksSender, WorksSendQueue],
  exports: [WorksSender],
})
export class WorksSendModule {}

/**
 * The worker side: the send job, the token cache and the two HTTP clients (token endpoint, send API). Needs a
 * `WorksBotStore` binding from the application (the bot registry).
 */
@Module({
  imports: [PersistenceModule, ProducerQueuesModule],
  providers: [
    WorksSendWorker,
    WorksSendSweeper,
    WorksSendQueue,
    WorksAccessTokens,
    WorksAuthClient,
    WorksApiClient,
    { provide: WorksTokenCache, useClass: RedisWorksTokenCache },
  ],
  exports: [WorksAccessTokens],
})
export class WorksSendWorkerModule {}
