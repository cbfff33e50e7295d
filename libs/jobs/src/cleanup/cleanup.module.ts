import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { CleanupService } from './cleanup.service';

/** Scheduled housekeeping (expiry, retention), once per cluster per tick. */
@Module({ imports: [PersistenceModule], providers: [CleanupService], exports: [CleanupService] })
export class CleanupModule {}
