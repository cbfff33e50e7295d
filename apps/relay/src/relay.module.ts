import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { RelayConfig } from '@app/config';
import { createJsonBodyMiddleware, PlatformModule } from '@app/platform';
import { JobsModule } from '@app/jobs';
import { AuthModule, PairingModule } from '@app/pairing';
import { CallbackProxyModule } from '@app/reply';
import { AdminModule } from './admin/admin.module';
import { EventsModule } from './events/events.module';
import { RootController } from './root/root.controller';
import { TunnelsModule } from './tunnels/tunnels.module';
import { WebhookModule } from './webhook/webhook.module';

export const DEFAULT_BODY_LIMIT = '256kb';

const DefaultBody = createJsonBodyMiddleware(DEFAULT_BODY_LIMIT);

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
        CallbackProxyModule,
        AdminModule,
        TunnelsModule,
        ...(config.workerInProcess ? [JobsModule] : []),
      ],
      controllers: [RootController],
    };
  }

  /** JSON bodies of every Nest route (the channel webhooks read theirs before Express: `WebhookHttpHandler`). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DefaultBody).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
