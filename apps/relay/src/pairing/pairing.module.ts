import { Module } from '@nestjs/common';
import { RateLimitGuard } from '@app/platform';
import { PairingController } from './pairing.controller';
import { PairingService } from './pairing.service';

/** Pairing sessions: create, status, and the `/pair` / `/unpair` transactions the webhook calls. */
@Module({
  controllers: [PairingController],
  providers: [PairingService, RateLimitGuard],
  exports: [PairingService],
})
export class PairingModule {}
