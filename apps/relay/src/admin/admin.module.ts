import { Module } from '@nestjs/common';
import { PairingModule } from '../pairing/pairing.module';
import { AdminController } from './admin.controller';
import { AdminService } from './admin.service';

/** The operator's API under /admin/api, every route behind the admin token. */
@Module({
  imports: [PairingModule],
  controllers: [AdminController],
  providers: [AdminService],
})
export class AdminModule {}
