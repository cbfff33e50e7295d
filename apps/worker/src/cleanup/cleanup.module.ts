import { Module } from '@nestjs/common';
import { CleanupService } from './cleanup.service';

/** Scheduled housekeeping (expiry, retention), once per cluster per tick. */
@Module({ providers: [CleanupService], exports: [CleanupService] })
export class CleanupModule {}
