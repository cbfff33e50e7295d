import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { SessionExpiry } from './session-expiry';

/** Session expiry alone (no HTTP routes): for the stream hub, agent auth and the cleanup job. */
@Module({ imports: [PersistenceModule], providers: [SessionExpiry], exports: [SessionExpiry] })
export class SessionExpiryModule {}
