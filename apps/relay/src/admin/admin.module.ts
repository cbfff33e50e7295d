import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { AdminAuthModule } from '@app/platform';
import { PairingModule } from '@app/pairing';
import { TunnelsModule } from '@app/tunnels';
import { AdminController } from './admin.controller';
import { AdminService } from './admin.service';
import { ApiKeysAdmin } from './api-keys/api-keys.admin';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { WorksBotsAdmin } from './works-bots/works-bots.admin';
import { WorksBotsController } from './works-bots/works-bots.controller';
import { TunnelsAdminController } from './tunnels/tunnels-admin.controller';

/** The operator's API under /admin/api, every route behind the admin token. */
@Module({
  imports: [PersistenceModule, AdminAuthModule, PairingModule, TunnelsModule],
  controllers: [AdminController, WorksBotsController, ApiKeysController, TunnelsAdminController],
  providers: [AdminService, WorksBotsAdmin, ApiKeysAdmin],
})
export class AdminModule {}
