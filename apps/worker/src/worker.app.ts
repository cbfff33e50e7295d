import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RelayConfig } from '@app/config';
import { configureHttpApp, PlatformModule } from '@app/platform';
import { JobsModule } from '@app/jobs';

@Module({})
class WorkerAppModule {
  static forRoot(config: RelayConfig): DynamicModule {
    return { module: WorkerAppModule, imports: [PlatformModule.forRoot(config), JobsModule] };
  }
}

/** The standalone worker: processors and scheduled jobs, plus /health and /health/ready on WORKER_PORT. */
export async function createWorkerApp(config: RelayConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(WorkerAppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
    // Start-up errors are thrown to the caller (main.ts exits non-zero), never a hidden process.exit.
    abortOnError: false,
  });
  configureHttpApp(app, config);
  return app;
}
