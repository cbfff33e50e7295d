import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { RateLimitGuard } from '@app/platform';
import { BotBindings } from './bot-bindings';
import { OrphanedAccounts } from './orphaned-accounts';
import { PairingAdmin } from './pairing-admin.service';
import { PairingController } from './pairing.controller';
import { PairingService } from './pairing.service';
import { SessionExpiryModule } from './session-expiry.module';
import { SessionService } from './session.service';

/**
 * Pairing: sessions (create, status), the `/pair` and `/unpair` transactions the webhook calls, the operator's
 * session and conversation changes, the bot bindings (`BotBindings`, held in memory), and (re-exported) session
 * expiry.
 */
@Module({
  imports: [PersistenceModule, SessionExpiryModule],
  controllers: [PairingController],
  providers: [SessionService, PairingService, PairingAdmin, OrphanedAccounts, RateLimitGuard, BotBindings],
  exports: [SessionService, PairingService, PairingAdmin, SessionExpiryModule, BotBindings],
})
export class PairingModule {}
