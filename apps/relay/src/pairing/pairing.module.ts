import { Module } from '@nestjs/common';
import { PairingController } from './pairing.controller';
import { PairingService } from './pairing.service';

/** Pairing sessions: create, status, and the `/pair` / `/unpair` transactions the webhook calls. */
@Module({
  controllers: [PairingController],
  providers: [PairingService],
  exports: [PairingService],
})
export class PairingModule {}
