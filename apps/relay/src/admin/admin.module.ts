import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { AdminAuthModule } from '@app/platform';
import { PairingModule } from '@app/pairing';
import { PushModule } from '@app/push';
import { TunnelsModule } from '@app/tunnels';
import { AdminController } from './admin.controller';
import { AdminService } from './admin.service';
import { ApiKeysAdmin } from './api-keys/api-keys.admin';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { BotBindingsController } from './bot-bindings/bot-bindings.controller';
import { HeldAnswersController } from './held-answers/held-answers.controller';
import { KakaoBotsController } from './kakao-bots/kakao-bots.controller';
import { PushAdminController } from './push/push-admin.controller';
import { WorksBotsAdmin } from './works-bots/works-bots.admin';
import { WorksBotsController } from './works-bots/works-bots.controller';
import { TunnelsAdminController } from './tunnels/tunnels-admin.controller';

/** The operator's API under /admin/api, every route behind the admin token. */
@Module({
  imports: [PersistenceModule, AdminAuthModule, PairingModule, PushModule, TunnelsModule],
  controllers: [
    AdminController,
    WorksBotsController,
    ApiKeysController,
    BotBindingsController,
    KakaoBotsController,
    HeldAnswersController,
    PushAdminController,
    TunnelsAdminController,
  ],
  providers: [AdminService, WorksBotsAdmin, ApiKeysAdmin],
})
export class AdminModule {}
