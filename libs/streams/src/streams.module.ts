import { Module } from '@nestjs/common';
import { PairingModule } from '@app/pairing';
import { PersistenceModule } from '@app/persistence';
import { DeliveryMarker } from './delivery-marker';
import { StreamHub } from './stream-hub.service';

/**
 * The delivery core of agent streams, whatever the transport: sequencing, replay, exactly-once, pacing, the
 * cluster-wide stream caps and re-checks (`StreamHub`, `AgentStream`), delivery marking. Transports (SSE in
 * apps/relay/src/events, WebSocket in apps/relay/src/agent-socket; push next) hand it a `StreamTransport`.
 */
@Module({
  imports: [PersistenceModule, PairingModule],
  providers: [StreamHub, DeliveryMarker],
  exports: [StreamHub],
})
export class StreamsModule {}
