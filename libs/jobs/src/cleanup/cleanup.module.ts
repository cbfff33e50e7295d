import { Module } from '@nestjs/common';
import { SessionExpiryModule } from '@app/pairing';
import { PersistenceModule } from '@app/persistence';
import { CleanupService } from './cleanup.service';

/** Scheduled housekeeping (expiry, retention), once per cluster per tick. */
@Module({
  imports: [PersistenceModule, SessionExpiryModule],
  providers: [CleanupService],
  exports: [CleanupService],
})
export class CleanupModule {}
