import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { AdminAuthModule } from '@app/platform';
import { PairingModule } from '@app/pairing';
import { PushModule } from '@app/push';
import { AdminController } from './admin.controller';
import { AdminService } from './admin.service';
import { PushAdminController } from './push/push-admin.controller';
import { WorksBotsAdmin } from './works-bots/works-bots.admin';
import { WorksBotsController } from './works-bots/works-bots.controller';

/** The operator's API under /admin/api, every route behind the admin token. */
@Module({
  imports: [PersistenceModule, AdminAuthModule, PairingModule, PushModule],
  controllers: [AdminController, WorksBotsController, PushAdminController],
  providers: [AdminService, WorksBotsAdmin],
})
export class AdminModule {}
