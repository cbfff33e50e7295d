import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { RateLimitGuard } from '@app/platform';
import { PairingController } from './pairing.controller';
import { PairingService } from './pairing.service';

/** Pairing sessions: create, status, and the `/pair` / `/unpair` transactions the webhook calls. */
@Module({
  imports: [PersistenceModule],
  controllers: [PairingController],
  providers: [PairingService, RateLimitGuard],
  exports: [PairingService],
})
export class PairingModule {}
