import { Module } from '@nestjs/common';
import { AuthModule } from '@app/pairing';
import { RateLimitGuard } from '@app/platform';
import { CallbackProxyModule } from '@app/reply';
import { StreamsModule } from '@app/streams';
import { AgentSocketGateway } from './agent-socket.gateway';

/**
 * The WebSocket transport of the agent stream: `GET /v1/ws` hands a `WsTransport` to the delivery core
 * (`StreamsModule`) and answers `reply` frames through the reply feature (`ReplyCommand`).
 */
@Module({
  imports: [AuthModule, StreamsModule, CallbackProxyModule],
  providers: [AgentSocketGateway, RateLimitGuard],
})
export class AgentSocketModule {}
