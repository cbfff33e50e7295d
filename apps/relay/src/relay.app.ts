import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RelayConfig } from '@app/config';
import {
  configureHttpApp,
  httpServerTimeouts,
  prependRequestHandler,
  RelayWsAdapter,
  TimedExpressAdapter,
} from '@app/platform';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { setupOpenApi } from './openapi';
import { RelayModule } from './relay.module';
import { TunnelIngressHandler } from './tunnels/tunnel-ingress.handler';
import { WebhookHttpHandler } from './webhook/webhook-http.handler';

/** The dashboard's static files (copied next to the compiled code by the build). */
export const DASHBOARD_DIR = join(__dirname, 'dashboard', 'static');

/** Builds the relay application (not yet listening); used by main.ts and by the e2e tests. */
export async function createRelayApp(config: RelayConfig): Promise<NestExpressApplication> {
  // The HTTP server is created with the slow-client timeouts (headers 10 s, whole request 30 s by default).
  const adapter = new TimedExpressAdapter(httpServerTimeouts(config));
  const app = await NestFactory.create<NestExpressApplication>(RelayModule.forRoot(config), adapter, {
    bodyParser: false,
    bufferLogs: true,
    // Start-up errors are thrown to the caller (main.ts exits non-zero), never a hidden process.exit.
    abortOnError: false,
  });
  // Ahead of Express itself: the channel webhooks' requests never enter Express or Nest's router (see there).
  prependRequestHandler(app.getHttpServer() as Server, app.get(WebhookHttpHandler).middleware);
  // The tunnels' ingress too: their bodies are passed on as bytes, no parser may read them.
  prependRequestHandler(app.getHttpServer() as Server, app.get(TunnelIngressHandler).middleware);
  configureHttpApp(app, config);
  // WebSocket gateways on the same server, each upgrade decided by its path's gate before a socket exists.
  app.useWebSocketAdapter(new RelayWsAdapter(app));
  app.useStaticAssets(DASHBOARD_DIR, {
    prefix: '/dashboard/',
    index: 'index.html',
    fallthrough: true,
    maxAge: 0,
  });
  setupOpenApi(app);
  return app;
}
