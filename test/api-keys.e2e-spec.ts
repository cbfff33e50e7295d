import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { hashToken } from '@app/core';
import {
  AccountAuthGuard,
  AccountPrincipal,
  AgentPrincipal,
  API_KEY_FAILURES_PER_KEY,
  AuthModule,
} from '@app/pairing';
import {
  configureHttpApp,
  httpServerTimeouts,
  prependRequestHandler,
  RelayWsAdapter,
  TimedExpressAdapter,
} from '@app/platform';
import {
  createSession,
  expectErrorBody,
  FakeKakao,
  openStream,
  pairAgent,
  postReply,
  resetState,
  sendMessage,
  SseClient,
  sql,
  testConfig,
  textReply,
  userMessage,
} from '@app/testing';
import { RelayModule } from '../apps/relay/src/relay.module';
import { WebhookHttpHandler } from '../apps/relay/src/webhook/webhook-http.handler';
import { endRateLimitWindows, RunningRelay } from './support/test-app';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const NO_SUCH = '00000000-0000-4000-8000-000000000000';

/** A route of the test only, to drive `AccountAuthGuard` over HTTP as the server endpoints will. */
@Controller('test-only/account')
class ProbeController {
  @Get()
  @UseGuards(AccountAuthGuard)
  who(@AccountPrincipal() principal: AgentPrincipal) {
    return { kind: principal.kind, accountId: principal.accountId, apiKeyId: principal.apiKeyId ?? null };
  }
}

/** A full relay (the same module and HTTP setup as `createRelayApp`) plus the probe route. */
async function startRelayWithProbe(overrides: Record<string, string>): Promise<RunningRelay> {
  const config = testConfig(overrides);
  @Module({ imports: [RelayModule.forRoot(config), AuthModule], controllers: [ProbeController] })
  class ProbeRelayModule {}
  const app = await NestFactory.create<NestExpressApplication>(
    ProbeRelayModule,
    new TimedExpressAdapter(httpServerTimeouts(config)),
    { bodyParser: false, bufferLogs: true, abortOnError: false },
  );
  prependRequestHandler(app.getHttpServer() as Server, app.get(WebhookHttpHandler).middleware);
  configureHttpApp(app, config);
  // The relay's gateways (the tunnels' /ws/:id) need the relay's WebSocket adapter, as createRelayApp sets it.
  app.useWebSocketAdapter(new RelayWsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

interface CreatedKey {
  id: string;
  apiKey: string;
  secretKey: string;
  createdAt: string;
}

describe('API keys and tokens (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  const streams: SseClient[] = [];
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelayWithProbe({
      ADMIN_TOKEN,
      SSE_HEARTBEAT_SECONDS: '1',
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      REPLY_COALESCE_MS: '0',
    });
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await endRateLimitWindows(relay);
  });
  afterAll(async () => {
    await relay?.close();
    await kakao?.close();
  });

  const createKey = async (accountId: string): Promise<CreatedKey> =>
    (await request(relay.url).post(`/admin/api/accounts/${accountId}/api-keys`).set(admin).expect(201)).body;
  const listKeys = async (accountId: string) =>
    (await request(relay.url).get(`/admin/api/accounts/${accountId}/api-keys`).set(admin).expect(200)).body
      .items as Array<Record<string, unknown>>;
  const mint = (key: { apiKey?: string; secretKey?: string }, body: unknown = {}) => {
    const req = request(relay.url).post('/v1/auth/token');
    if (key.apiKey !== undefined) req.set('x-api-key', key.apiKey);
    if (key.secretKey !== undefined) req.set('x-secret-key', key.secretKey);
    return req.send(body as object);
  };
  const tokenOf = async (key: CreatedKey, ttlSeconds?: number): Promise<string> =>
    (await mint(key, ttlSeconds === undefined ? {} : { ttlSeconds }).expect(200)).body.token;
  const stream = async (token: string, tokenInQuery = false) => {
    const client = await SseClient.connect(relay.url, { token, tokenInQuery });
    streams.push(client);
    return client;
  };
  /** A token signed with the relay's own key (read from the database), with claims of the test's choosing. */
  const signed = async (claims: Record<string, unknown>) => {
    const [row] = await sql<{ value: string }>(
      `SELECT value FROM relay_settings WHERE name = 'jwt_hs256_key'`,
    );
    return new JwtService({}).signAsync(claims, { secret: row.value, algorithm: 'HS256' });
  };

  it('key lifecycle: created with its secret once, listed without it, stored hashed, revoked', async () => {
    const agent = await pairAgent(relay.url, 'keys-lifecycle-user');
    const created = await createKey(agent.accountId);
    expect(Object.keys(created).sort()).toEqual(['apiKey', 'createdAt', 'id', 'secretKey']);
    expect(created.apiKey).toMatch(/^ak_live_[A-Za-z0-9_-]{32}$/);
    expect(created.secretKey).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);

    const listed = await listKeys(agent.accountId);
    expect(listed).toEqual([
      { id: created.id, apiKey: created.apiKey, createdAt: created.createdAt, lastUsedAt: null },
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.secretKey);
    const rows = await sql(`SELECT * FROM api_keys WHERE id = $1`, [created.id]);
    expect(rows[0].secret_hash).toBe(hashToken(created.secretKey));
    expect(JSON.stringify(rows)).not.toContain(created.secretKey);

    // Using the pair records lastUsedAt.
    await tokenOf(created);
    expect((await listKeys(agent.accountId))[0].lastUsedAt).toEqual(expect.any(String));

    await request(relay.url)
      .delete(`/admin/api/accounts/${agent.accountId}/api-keys/${created.id}`)
      .set(admin)
      .expect(204);
    expect(await listKeys(agent.accountId)).toEqual([]);
    expectErrorBody(
      await request(relay.url)
        .delete(`/admin/api/accounts/${agent.accountId}/api-keys/${created.id}`)
        .set(admin),
      404,
      'API_KEY_NOT_FOUND',
    );
    expectErrorBody(
      await request(relay.url)
        .delete(`/admin/api/accounts/${agent.accountId}/api-keys/not-a-uuid`)
        .set(admin),
      404,
      'API_KEY_NOT_FOUND',
    );
    // A key of another account is as unknown as a missing one.
    const other = await pairAgent(relay.url, 'keys-lifecycle-other');
    const foreign = await createKey(other.accountId);
    expectErrorBody(
      await request(relay.url)
        .delete(`/admin/api/accounts/${agent.accountId}/api-keys/${foreign.id}`)
        .set(admin),
      404,
      'API_KEY_NOT_FOUND',
    );
  });

  it('unknown account: 404 ACCOUNT_NOT_FOUND; no admin token: 401; at most 20 keys (409)', async () => {
    for (const [method, path] of [
      ['post', `/admin/api/accounts/${NO_SUCH}/api-keys`],
      ['get', `/admin/api/accounts/${NO_SUCH}/api-keys`],
      ['delete', `/admin/api/accounts/${NO_SUCH}/api-keys/${NO_SUCH}`],
    ] as const) {
      expectErrorBody(await request(relay.url)[method](path).set(admin), 404, 'ACCOUNT_NOT_FOUND');
      expectErrorBody(await request(relay.url)[method](path), 401, 'TOKEN_MISSING');
    }
    const agent = await pairAgent(relay.url, 'keys-cap-user');
    for (let i = 0; i < 20; i++) await createKey(agent.accountId);
    expectErrorBody(
      await request(relay.url).post(`/admin/api/accounts/${agent.accountId}/api-keys`).set(admin),
      409,
      'TOO_MANY_API_KEYS',
    );
  });

  it('POST /v1/auth/token: a JWT for the account; ttlSeconds 60..86400 (400 otherwise)', async () => {
    const agent = await pairAgent(relay.url, 'token-user');
    const key = await createKey(agent.accountId);
    const before = Date.now();
    const res = await mint(key).expect(200);
    expect(res.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      tokenType: 'Bearer',
      expiresAt: expect.any(String),
      accountId: agent.accountId,
    });
    const ttl = Date.parse(res.body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(3_598_000);
    expect(ttl).toBeLessThanOrEqual(3_601_000);
    const claims = new JwtService({}).decode<Record<string, unknown>>(res.body.token);
    expect(claims).toMatchObject({ iss: 'kakao-relay', sub: agent.accountId, kid: key.id });
    expect(claims.exp).toBe((claims.iat as number) + 3600);

    // No body at all (curl without -d): the default lifetime.
    await request(relay.url)
      .post('/v1/auth/token')
      .set('x-api-key', key.apiKey)
      .set('x-secret-key', key.secretKey)
      .expect(200);
    const short = await mint(key, { ttlSeconds: 60 }).expect(200);
    expect(Date.parse(short.body.expiresAt) - before).toBeLessThanOrEqual(61_000);
    for (const ttlSeconds of [59, 86_401, 'abc', 1.5, null]) {
      expectErrorBody(await mint(key, { ttlSeconds }), 400, 'VALIDATION_ERROR', { details: 'allowed' });
    }
  });

  it('the token works on GET /v1/events (header and ?token=) and /openclaw/reply', async () => {
    const agent = await pairAgent(relay.url, 'token-stream-user');
    const key = await createKey(agent.accountId);
    const token = await tokenOf(key);
    const byHeader = await stream(token);
    expect(byHeader.status).toBe(200);
    expect(JSON.parse((await byHeader.waitFor('connected')).data)).toMatchObject({
      accountId: agent.accountId,
      sessionId: null,
      status: 'paired',
    });
    const byQuery = await stream(token, true);
    expect(byQuery.status).toBe(200);
    await byQuery.waitFor('connected');

    await sendMessage(relay.url, userMessage(agent.userKey, 'hello server agent', kakao.callbackUrl()));
    const message = JSON.parse((await byHeader.waitFor('message')).data);
    expect(message.normalized.text).toBe('hello server agent');
    await byQuery.waitFor('message');
    const reply = await postReply(relay.url, token, {
      messageId: message.id,
      response: textReply('answered with a JWT'),
    }).expect(200);
    expect(reply.body).toMatchObject({ success: true });
  });

  it('expired: 401 TOKEN_EXPIRED; a foreign or broken token: 401 INVALID_TOKEN', async () => {
    const agent = await pairAgent(relay.url, 'token-expired-user');
    const key = await createKey(agent.accountId);
    await tokenOf(key); // the signing key exists from here on
    const now = Math.floor(Date.now() / 1000);
    const expired = await signed({
      iss: 'kakao-relay',
      sub: agent.accountId,
      kid: key.id,
      iat: now - 120,
      exp: now - 60,
    });
    expectErrorBody(await stream(expired), 401, 'TOKEN_EXPIRED');
    expectErrorBody(
      await postReply(relay.url, expired, { messageId: NO_SUCH, response: textReply('x') }),
      401,
      'TOKEN_EXPIRED',
    );
    const foreign = await new JwtService({}).signAsync(
      { iss: 'kakao-relay', sub: agent.accountId, kid: key.id, iat: now, exp: now + 600 },
      { secret: 'not-the-relay-key-0123456789abcdef', algorithm: 'HS256' },
    );
    for (const token of [foreign, `${foreign}x`, 'a.b.c']) {
      expectErrorBody(
        await postReply(relay.url, token, { messageId: NO_SUCH, response: textReply('x') }),
        401,
        'INVALID_TOKEN',
      );
    }
  });

  it('a stream opened with a token ends at its exp with pairing_expired {reason: expired}', async () => {
    const agent = await pairAgent(relay.url, 'token-exp-stream-user');
    const key = await createKey(agent.accountId);
    await tokenOf(key);
    const now = Math.floor(Date.now() / 1000);
    const token = await signed({
      iss: 'kakao-relay',
      sub: agent.accountId,
      kid: key.id,
      iat: now,
      exp: now + 2,
    });
    const client = await stream(token);
    await client.waitFor('connected');
    expect(JSON.parse((await client.waitFor('pairing_expired', 4000)).data)).toEqual({ reason: 'expired' });
    await client.waitForEnd();
  });

  it('revocation: the next request is 401 TOKEN_REVOKED; open streams of that key close at once, others stay', async () => {
    const agent = await pairAgent(relay.url, 'revoke-user');
    const [revoked, kept] = [await createKey(agent.accountId), await createKey(agent.accountId)];
    const [token, keptToken] = [await tokenOf(revoked), await tokenOf(kept)];
    const [doomed, survivor, relayStream] = [
      await stream(token),
      await stream(keptToken),
      await openStream(relay.url, agent.token),
    ];
    streams.push(relayStream);
    await Promise.all([doomed.waitFor('connected'), survivor.waitFor('connected')]);

    await request(relay.url)
      .delete(`/admin/api/accounts/${agent.accountId}/api-keys/${revoked.id}`)
      .set(admin)
      .expect(204);
    expect(JSON.parse((await doomed.waitFor('pairing_expired', 2000)).data)).toEqual({
      reason: 'disconnected',
    });
    await doomed.waitForEnd(2000);
    expectErrorBody(
      await postReply(relay.url, token, { messageId: NO_SUCH, response: textReply('x') }),
      401,
      'TOKEN_REVOKED',
    );
    expectErrorBody(await stream(token), 401, 'TOKEN_REVOKED');
    expectErrorBody(await mint(revoked), 401, 'INVALID_API_KEY');

    // Two heartbeats later the others are still open.
    await new Promise((r) => setTimeout(r, 2100));
    expect(survivor.ended).toBe(false);
    expect(relayStream.ended).toBe(false);
  });

  it('a revocation whose notice is lost still closes the stream within SSE_HEARTBEAT_SECONDS (re-check)', async () => {
    const agent = await pairAgent(relay.url, 'revoke-quiet-user');
    const key = await createKey(agent.accountId);
    const client = await stream(await tokenOf(key));
    await client.waitFor('connected');
    // Deleted behind the relay's back: no Pub/Sub notice, only the heartbeat's batched re-check can see it.
    await sql(`DELETE FROM api_keys WHERE id = $1`, [key.id]);
    const started = Date.now();
    expect(JSON.parse((await client.waitFor('pairing_expired', 2500)).data)).toEqual({
      reason: 'disconnected',
    });
    await client.waitForEnd(1000);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('deleting the account closes its token streams and its keys go with it', async () => {
    const agent = await pairAgent(relay.url, 'delete-account-user');
    const key = await createKey(agent.accountId);
    const client = await stream(await tokenOf(key));
    await client.waitFor('connected');
    await request(relay.url).delete(`/admin/api/accounts/${agent.accountId}`).set(admin).expect(204);
    await client.waitForEnd(2500);
    expect(await sql(`SELECT id FROM api_keys WHERE id = $1`, [key.id])).toEqual([]);
  });

  it('wrong key or secret, a missing header, a revoked key: one and the same 401 body', async () => {
    const agent = await pairAgent(relay.url, 'wrong-key-user');
    const key = await createKey(agent.accountId);
    const gone = await createKey(agent.accountId);
    await request(relay.url)
      .delete(`/admin/api/accounts/${agent.accountId}/api-keys/${gone.id}`)
      .set(admin)
      .expect(204);
    const bodies = [];
    for (const attempt of [
      { apiKey: key.apiKey, secretKey: gone.secretKey },
      { apiKey: gone.apiKey, secretKey: key.secretKey },
      { apiKey: gone.apiKey, secretKey: gone.secretKey },
      { apiKey: key.apiKey },
      { secretKey: key.secretKey },
      {},
      { apiKey: 'x'.repeat(500), secretKey: 'y' },
    ]) {
      const res = await mint(attempt);
      expectErrorBody(res, 401, 'INVALID_API_KEY');
      bodies.push(res.text);
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it(`guessing: after ${API_KEY_FAILURES_PER_KEY} wrong secrets the key answers 429 + Retry-After; 30 requests per minute per address`, async () => {
    const agent = await pairAgent(relay.url, 'guess-user');
    const key = await createKey(agent.accountId);
    const other = await createKey(agent.accountId);
    for (let i = 0; i < API_KEY_FAILURES_PER_KEY; i++) {
      expectErrorBody(await mint({ apiKey: key.apiKey, secretKey: other.secretKey }), 401, 'INVALID_API_KEY');
    }
    for (const secretKey of [other.secretKey, key.secretKey]) {
      const res = await mint({ apiKey: key.apiKey, secretKey });
      expectErrorBody(res, 429, 'RATE_LIMITED', { retryAfter: true });
    }
    // Another key is not affected; the pair on the server endpoints is refused the same way.
    await mint(other).expect(200);
    expectErrorBody(
      await request(relay.url)
        .get('/test-only/account')
        .set('x-api-key', key.apiKey)
        .set('x-secret-key', key.secretKey),
      429,
      'RATE_LIMITED',
      { retryAfter: true },
    );

    await endRateLimitWindows(relay);
    for (let i = 0; i < 30; i++) await mint(other).expect(200);
    const limited = await mint(other);
    expectErrorBody(limited, 429, 'RATE_LIMITED', { retryAfter: true, details: 'absent' });
  });

  it('AccountAuthGuard: the key pair and a JWT (and relay/paired tokens) pass; a pending session is 401 SESSION_NOT_PAIRED', async () => {
    const agent = await pairAgent(relay.url, 'guard-user');
    const key = await createKey(agent.accountId);
    const probe = () => request(relay.url).get('/test-only/account');
    expect(
      (await probe().set('x-api-key', key.apiKey).set('x-secret-key', key.secretKey).expect(200)).body,
    ).toEqual({
      kind: 'api_key',
      accountId: agent.accountId,
      apiKeyId: key.id,
    });
    const jwt = await tokenOf(key);
    expect((await probe().set('Authorization', `Bearer ${jwt}`).expect(200)).body).toEqual({
      kind: 'api_token',
      accountId: agent.accountId,
      apiKeyId: key.id,
    });
    expect((await probe().set('Authorization', `Bearer ${agent.token}`).expect(200)).body).toMatchObject({
      kind: 'session',
      accountId: agent.accountId,
    });
    const pending = await createSession(relay.url);
    expectErrorBody(
      await probe().set('Authorization', `Bearer ${pending.sessionToken}`),
      401,
      'SESSION_NOT_PAIRED',
    );
    expectErrorBody(
      await probe().set('x-api-key', key.apiKey).set('x-secret-key', 'sk_wrong'),
      401,
      'INVALID_API_KEY',
    );
    expectErrorBody(await probe(), 401, 'TOKEN_MISSING');
  });
});
