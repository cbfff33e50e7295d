import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { TunnelHub } from './tunnel-hub';
import { TunnelService } from './tunnel.service';

/** Webhook tunnels' core: the sockets' hub (local and across replicas) and the tunnels' lifecycle. */
@Module({
  imports: [PersistenceModule],
  providers: [TunnelHub, TunnelService],
  exports: [TunnelHub, TunnelService],
})
export class TunnelsModule {}
