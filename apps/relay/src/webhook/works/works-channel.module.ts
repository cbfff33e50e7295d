import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { WorksSendModule } from '@app/works';
import { WorksChannelAdapter } from './works-channel.adapter';

/** The Naver Works channel: its callback adapter; sends go through `@app/works`. */
@Module({
  imports: [PersistenceModule, WorksSendModule],
  providers: [WorksChannelAdapter],
  exports: [WorksChannelAdapter],
})
export class WorksChannelModule {}
