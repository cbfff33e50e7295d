import SwaggerParser from '@apidevtools/swagger-parser';
import request from 'supertest';
import type { Application } from 'express';
import { RunningRelay, startRelay } from './support/test-app';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route the Express app serves, as "METHOD /openapi/{path}". */
function servedRoutes(relay: RunningRelay): string[] {
  const app = relay.app.getHttpAdapter().getInstance() as Application & { router: { stack: Layer[] } };
  const routes: string[] = [];
  for (const layer of app.router.stack) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

describe('OpenAPI document (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('is served at /docs-json, validates, and lists every route the app serves', async () => {
    const res = await request(relay.url).get('/docs-json').expect(200);
    const document = res.body;
    await SwaggerParser.validate(JSON.parse(JSON.stringify(document)));
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    // The documentation routes themselves and the dashboard redirect are not API operations.
    // Middleware mounted on every path shows up as '/*path' layers; they are not routes.
    const served = servedRoutes(relay).filter(
      (r) => !/^GET \/(docs.*)?$/.test(r) && !r.startsWith('HEAD ') && !r.includes('*path'),
    );
    expect(served.length).toBeGreaterThan(20);
    const missing = served.filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
    for (const route of [
      'POST /kakao/webhook',
      'POST /v1/sessions/create',
      'GET /v1/sessions/{sessionToken}/status',
      'GET /v1/events',
      'GET /v1/ws',
      'POST /openclaw/reply',
      'GET /health',
      'GET /health/ready',
      'GET /metrics',
      'GET /admin/api/overview',
      'POST /admin/api/works/bots',
      'GET /admin/api/works/bots',
      'GET /admin/api/works/bots/{botId}',
      'PATCH /admin/api/works/bots/{botId}',
      'POST /admin/api/works/bots/{botId}/disable',
      'POST /admin/api/works/bots/{botId}/enable',
      'DELETE /admin/api/works/bots/{botId}',
      'POST /admin/api/accounts/{accountId}/api-keys',
      'GET /admin/api/accounts/{accountId}/api-keys',
      'DELETE /admin/api/accounts/{accountId}/api-keys/{keyId}',
      'POST /v1/auth/token',
      'GET /admin/api/bots/bindings',
      'PUT /admin/api/bots/{channel}/{botId}/binding',
      'GET /admin/api/bots/{channel}/{botId}/binding',
      'DELETE /admin/api/bots/{channel}/{botId}/binding',
    ]) {
      expect(documented).toContain(route);
    }
  });

  it('describes both auth schemes and the uniform error body on error responses', async () => {
    const document = (await request(relay.url).get('/docs-json').expect(200)).body;
    expect(Object.keys(document.components.securitySchemes)).toEqual(
      expect.arrayContaining(['agent', 'admin']),
    );
    expect(document.components.schemas.ErrorBodyDto.required).toEqual(
      expect.arrayContaining(['statusCode', 'code', 'message']),
    );
    const reply = document.paths['/openclaw/reply'].post;
    expect(reply.security).toEqual([{ agent: [] }]);
    expect(reply.responses['404'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ErrorBodyDto',
    );
    expect(reply.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ReplyDto');
    expect(document.paths['/admin/api/overview'].get.security).toEqual([{ admin: [] }]);
  });

  it('describes the API key pair as one security requirement of two headers, and the token route', async () => {
    const document = (await request(relay.url).get('/docs-json').expect(200)).body;
    expect(document.components.securitySchemes.apiKey).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
    });
    expect(document.components.securitySchemes.secretKey).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-secret-key',
    });
    const token = document.paths['/v1/auth/token'].post;
    expect(token.security).toEqual([{ apiKey: [], secretKey: [] }]);
    expect(Object.keys(token.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
    expect(token.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreateTokenDto',
    );
    const create = document.paths['/admin/api/accounts/{accountId}/api-keys'].post;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '401', '404', '409']));
    expect(document.components.schemas.ApiKeyDto.properties.secretKey).toBeUndefined();
    expect(document.components.schemas.CreatedApiKeyDto.required).toContain('secretKey');
  });

  it("describes a Works bot's secrets as write-only and never in a response", async () => {
    const document = (await request(relay.url).get('/docs-json').expect(200)).body;
    const schemas = document.components.schemas;
    for (const field of ['botSecret', 'clientSecret', 'privateKey']) {
      expect(schemas.CreateWorksBotDto.properties[field].writeOnly).toBe(true);
      expect(schemas.UpdateWorksBotDto.properties[field].writeOnly).toBe(true);
      expect(schemas.WorksBotDto.properties[field]).toBeUndefined();
    }
    expect(schemas.CreateWorksBotDto.required).toEqual(
      expect.arrayContaining([
        'botId',
        'botSecret',
        'clientId',
        'clientSecret',
        'serviceAccount',
        'privateKey',
      ]),
    );
    const create = document.paths['/admin/api/works/bots'].post;
    expect(create.security).toEqual([{ admin: [] }]);
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '409', '503']),
    );
    expect(document.paths['/admin/api/works/bots/{botId}'].delete.responses['204']).toBeDefined();
  });

  it('describes the bot binding routes: body, policies, errors (server-mode.md §3)', async () => {
    const document = (await request(relay.url).get('/docs-json').expect(200)).body;
    const schemas = document.components.schemas;
    expect(schemas.PutBotBindingDto.required).toEqual(expect.arrayContaining(['accountId', 'policy']));
    expect(schemas.PutBotBindingDto.properties.policy.enum).toEqual(['pairing', 'open', 'allowlist']);
    expect(schemas.PutBotBindingDto.properties.allowlist.maxItems).toBe(10_000);
    const binding = document.paths['/admin/api/bots/{channel}/{botId}/binding'];
    expect(binding.put.security).toEqual([{ admin: [] }]);
    expect(binding.put.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/PutBotBindingDto',
    );
    expect(Object.keys(binding.put.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '429']),
    );
    expect(binding.put.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/BotBindingDto',
    );
    expect(binding.put.parameters.find((p: { name: string }) => p.name === 'channel').schema.enum).toEqual([
      'kakao',
      'works',
    ]);
    expect(Object.keys(binding.get.responses)).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(Object.keys(binding.delete.responses)).toEqual(expect.arrayContaining(['204', '400', '404']));
    const list = document.paths['/admin/api/bots/bindings'].get;
    expect(list.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/BotBindingPageDto',
    );
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await request(relay.url).get('/docs').redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
  });
});
