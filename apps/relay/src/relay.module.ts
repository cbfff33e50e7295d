import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { RelayConfig } from '@app/config';
import { createJsonBodyMiddleware, PlatformModule } from '@app/platform';
import { JobsModule } from '@app/jobs';
import { AuthModule, PairingModule } from '@app/pairing';
import { PushHttpModule } from '@app/push';
import { CallbackProxyModule } from '@app/reply';
import { AdminModule } from './admin/admin.module';
import { AgentSocketModule } from './agent-socket/agent-socket.module';
import { EventsModule } from './events/events.module';
import { RootController } from './root/root.controller';
import { TunnelsModule } from './tunnels/tunnels.module';
import { WebhookModule } from './webhook/webhook.module';

export const DEFAULT_BODY_LIMIT = '256kb';

const DefaultBody = createJsonBodyMiddleware(DEFAULT_BODY_LIMIT);

/** A bot binding's allow-list may name 10,000 users of up to 256 characters (server-mode.md §3): 4 MiB. */
export const BOT_BINDING_BODY_LIMIT = '4mb';
const BOT_BINDING_ROUTE = { path: 'admin/api/bots/*path', method: RequestMethod.PUT };
const BotBindingBody = createJsonBodyMiddleware(BOT_BINDING_BODY_LIMIT);

/** The relay deployable: HTTP ingress for Kakao, the agent's stream and replies, admin; optionally the worker. */
@Module({})
export class RelayModule implements NestModule {
  static forRoot(config: RelayConfig): DynamicModule {
    return {
      module: RelayModule,
      imports: [
        PlatformModule.forRoot(config),
        AuthModule,
        PairingModule,
        WebhookModule,
        EventsModule,
        AgentSocketModule,
        CallbackProxyModule,
        PushHttpModule,
        AdminModule,
        TunnelsModule,
        ...(config.workerInProcess ? [JobsModule] : []),
      ],
      controllers: [RootController],
    };
  }

  /** JSON bodies of every Nest route (the channel webhooks read theirs before Express: `WebhookHttpHandler`). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BotBindingBody).forRoutes(BOT_BINDING_ROUTE);
    consumer
      .apply(DefaultBody)
      .exclude(BOT_BINDING_ROUTE)
      .forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
