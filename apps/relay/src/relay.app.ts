import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RelayConfig } from '@app/config';
import { configureHttpApp } from '@app/platform';
import { RelayModule } from './relay.module';

/** Builds the relay application (not yet listening); used by main.ts and by the e2e tests. */
export async function createRelayApp(config: RelayConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(RelayModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  configureHttpApp(app, config);
  return app;
}
