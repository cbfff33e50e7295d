import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorBodyDto } from '@app/platform';
import { AGENT_SOCKET_DOCS } from './agent-socket/agent-socket.openapi';
import { TUNNEL_PATH_DOCS } from './tunnels/tunnels.openapi';
import { CHANNEL_WEBHOOK_DOCS } from './webhook/webhook.openapi';

/**
 * The OpenAPI document is generated from the controllers' and DTOs' decorators, so it cannot drift from the
 * code; the channel webhooks, which no controller serves, are written by their channel folders
 * (`CHANNEL_WEBHOOK_DOCS`). Every non-2xx response of every operation refers to the uniform error body.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('kakao-relay')
    .setDescription(
      'Relay between Kakao i OpenBuilder skills and OpenClaw agents behind NAT. Public: the Kakao webhook and ' +
        'pairing sessions. Agent: the event stream and replies (session token or account relay token). Admin: ' +
        '/admin/api and /metrics (ADMIN_TOKEN).',
    )
    .setVersion('1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'Session token, account relay token, or a token of POST /v1/auth/token (JWT)',
      },
      'agent',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'x-api-key',
        description: 'API key (`ak_live_…`), with x-secret-key',
      },
      'apiKey',
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'x-secret-key',
        description: 'Secret key (`sk_…`), with x-api-key',
      },
      'secretKey',
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'Tunnel token (GET /ws/{id})' },
      'tunnelToken',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorBodyDto, ...CHANNEL_WEBHOOK_DOCS.flatMap((docs) => docs.models)],
  });
  // The channel webhooks answer before Express (`WebhookHttpHandler`): no controller describes them.
  for (const { path, operation } of CHANNEL_WEBHOOK_DOCS) document.paths[path] = { post: operation };
  // The agent socket is a WebSocket gateway's upgrade, not a controller route.
  document.paths[AGENT_SOCKET_DOCS.path] = { get: AGENT_SOCKET_DOCS.operation };
  // The tunnels' ingress (before Express) and the program's socket (a gateway): no controller either.
  Object.assign(document.paths, TUNNEL_PATH_DOCS);
  const errorRef = { $ref: '#/components/schemas/ErrorBodyDto' };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) < 400 || !response || typeof response !== 'object' || '$ref' in response) continue;
        const r = response as { content?: Record<string, unknown> };
        r.content ??= { 'application/json': { schema: errorRef } };
      }
    }
  }
  return document;
}

export function setupOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'kakao-relay API',
    swaggerOptions: { persistAuthorization: false },
  });
}
