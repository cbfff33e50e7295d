import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { AuthModule } from '@app/pairing';
import { ErrorBodyFilter, RateLimitGuard } from '@app/platform';
import { TunnelsModule as TunnelsCoreModule } from '@app/tunnels';
import { TunnelGateway } from './tunnel.gateway';
import { TunnelIngressHandler } from './tunnel-ingress.handler';
import { AnonymousTunnelsGuard, TunnelsController } from './tunnels.controller';

/** Webhook tunnels (websocket.md §2): the account's API, the program's socket and the webhook ingress. */
@Module({
  imports: [PersistenceModule, AuthModule, TunnelsCoreModule],
  controllers: [TunnelsController],
  providers: [TunnelGateway, TunnelIngressHandler, ErrorBodyFilter, AnonymousTunnelsGuard, RateLimitGuard],
  exports: [TunnelIngressHandler],
})
export class TunnelsModule {}
