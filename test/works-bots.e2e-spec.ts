import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { WorksBotStore } from '@app/core';
import { expectErrorBody, resetState, sql, TEST_ADMIN_TOKEN } from '@app/testing';
import { endRateLimitWindows, RunningRelay, startRelay } from './support/test-app';

const rsaPem = (bits = 2048) =>
  generateKeyPairSync('rsa', { modulusLength: bits })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
const PRIVATE_KEY = rsaPem();
const ENV_PRIVATE_KEY = rsaPem();
const EC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const BOT_SECRET = `bot-secret-${randomBytes(12).toString('hex')}`;
const CLIENT_SECRET = `client-secret-${randomBytes(12).toString('hex')}`;
const bot = (botId: string, extra: Record<string, unknown> = {}) => ({
  botId,
  name: `bot ${botId}`,
  botSecret: BOT_SECRET,
  clientId: `client-${botId}`,
  clientSecret: CLIENT_SECRET,
  serviceAccount: `svc-${botId}@example.works`,
  privateKey: PRIVATE_KEY,
  ...extra,
});

/** Nothing of a secret in an answer: not the values, not a PEM, not a sealed column (nor, `keys`, their names). */
function expectNoSecrets(text: string, keys = true): void {
  const names = keys ? ['botSecret', 'clientSecret', 'privateKey'] : [];
  for (const secret of [BOT_SECRET, CLIENT_SECRET, 'PRIVATE KEY', 'v1:', ...names]) {
    expect(text).not.toContain(secret);
  }
}

describe('Works bots: admin API and store (e2e)', () => {
  let relay: RunningRelay;
  let keyDir: string;
  const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const api = () => request(relay.url);

  beforeAll(async () => {
    await resetState();
    keyDir = mkdtempSync(join(tmpdir(), 'works-bots-'));
    const keyFile = join(keyDir, 'works.pem');
    writeFileSync(keyFile, ENV_PRIVATE_KEY, { mode: 0o600 });
    relay = await startRelay({
      RELAY_SECRETS_KEY: randomBytes(32).toString('base64'),
      WORKS_BOT_ID: 'env-bot',
      WORKS_BOT_SECRET: 'env-bot-secret',
      WORKS_CLIENT_ID: 'env-client',
      WORKS_CLIENT_SECRET: 'env-client-secret',
      WORKS_SERVICE_ACCOUNT: 'env-svc@example.works',
      WORKS_PRIVATE_KEY_FILE: keyFile,
    });
  });
  afterAll(async () => {
    await relay?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });
  afterEach(() => endRateLimitWindows(relay, 'admin-auth-failures'));

  it('every route needs the admin token', async () => {
    for (const [method, path] of [
      ['post', '/admin/api/works/bots'],
      ['get', '/admin/api/works/bots'],
      ['get', '/admin/api/works/bots/1'],
      ['patch', '/admin/api/works/bots/1'],
      ['post', '/admin/api/works/bots/1/disable'],
      ['post', '/admin/api/works/bots/1/enable'],
      ['delete', '/admin/api/works/bots/1'],
    ] as const) {
      expectErrorBody(await api()[method](path), 401, 'TOKEN_MISSING');
    }
  });

  it('creates a bot (201): secrets stored sealed, never returned', async () => {
    const res = await api().post('/admin/api/works/bots').set(auth).send(bot('2000001')).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      botId: '2000001',
      name: 'bot 2000001',
      enabled: true,
      clientId: 'client-2000001',
      serviceAccount: 'svc-2000001@example.works',
      hasPrivateKey: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expectNoSecrets(res.text);
    const [row] = await sql<Record<string, string>>(`SELECT * FROM works_bots WHERE bot_id = $1`, [
      '2000001',
    ]);
    for (const column of ['bot_secret_sealed', 'client_secret_sealed', 'private_key_sealed']) {
      expect(row[column]).toMatch(/^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    }
    expect(JSON.stringify(row)).not.toContain(BOT_SECRET);
    expect(JSON.stringify(row)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(row)).not.toContain('PRIVATE KEY');
    // The store opens them for the callback and the send path.
    const store = relay.app.get(WorksBotStore);
    expect(await store.findByBotId('2000001')).toEqual({
      botId: '2000001',
      name: 'bot 2000001',
      enabled: true,
      botSecret: BOT_SECRET,
      clientId: 'client-2000001',
      clientSecret: CLIENT_SECRET,
      serviceAccount: 'svc-2000001@example.works',
      privateKey: PRIVATE_KEY,
    });
    expect(await store.findByBotId('nope')).toBeNull();
  });

  it('refuses a second bot with the same id (409) and the id of the WORKS_* bot', async () => {
    expectErrorBody(
      await api().post('/admin/api/works/bots').set(auth).send(bot('2000001')),
      409,
      'WORKS_BOT_EXISTS',
    );
    expectErrorBody(
      await api().post('/admin/api/works/bots').set(auth).send(bot('env-bot')),
      409,
      'WORKS_BOT_FROM_ENVIRONMENT',
    );
  });

  it.each(['botId', 'botSecret', 'clientId', 'clientSecret', 'serviceAccount', 'privateKey'])(
    'a missing %s is 400 naming the field',
    async (field) => {
      const body: Record<string, unknown> = bot('2000009');
      delete body[field];
      const res = await api().post('/admin/api/works/bots').set(auth).send(body);
      const error = expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'required' });
      expect(error.details?.map((d) => d.field)).toContain(field);
      expectNoSecrets(res.text, false);
    },
  );

  it('a bad PEM or a key that is not RSA is 400 naming privateKey, without the key in the answer', async () => {
    const bad = await api()
      .post('/admin/api/works/bots')
      .set(auth)
      .send(bot('2000009', { privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }));
    const badError = expectErrorBody(bad, 400, 'VALIDATION_ERROR', { details: 'required' });
    expect(badError.details).toEqual([
      { field: 'privateKey', message: 'privateKey is not a readable PEM private key' },
    ]);
    const ec = await api()
      .post('/admin/api/works/bots')
      .set(auth)
      .send(bot('2000009', { privateKey: EC_KEY }));
    const ecError = expectErrorBody(ec, 400, 'VALIDATION_ERROR', { details: 'required' });
    expect(ecError.details).toEqual([
      { field: 'privateKey', message: 'privateKey must be an RSA key (RS256), not ec' },
    ]);
    expect(ec.text).not.toContain(EC_KEY.split('\n')[1]);
    expect((await sql(`SELECT 1 FROM works_bots WHERE bot_id = '2000009'`)).length).toBe(0);
  });

  it('gets a bot, 404 for an unknown one', async () => {
    const res = await api().get('/admin/api/works/bots/2000001').set(auth).expect(200);
    expect(res.body).toMatchObject({ botId: '2000001', enabled: true, hasPrivateKey: true });
    expectNoSecrets(res.text);
    expectErrorBody(await api().get('/admin/api/works/bots/2999999').set(auth), 404, 'WORKS_BOT_NOT_FOUND');
    expectErrorBody(await api().get('/admin/api/works/bots/a%20b').set(auth), 404, 'WORKS_BOT_NOT_FOUND');
    // The WORKS_* bot is not registered: the admin API manages stored bots only.
    expectErrorBody(await api().get('/admin/api/works/bots/env-bot').set(auth), 404, 'WORKS_BOT_NOT_FOUND');
  });

  it('lists bots newest first, paged', async () => {
    await api().post('/admin/api/works/bots').set(auth).send(bot('2000002')).expect(201);
    await api().post('/admin/api/works/bots').set(auth).send(bot('2000003')).expect(201);
    const first = await api().get('/admin/api/works/bots?limit=2').set(auth).expect(200);
    expect(first.body.items.map((b: { botId: string }) => b.botId)).toEqual(['2000003', '2000002']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expectNoSecrets(first.text);
    const second = await api()
      .get(`/admin/api/works/bots?limit=2&cursor=${first.body.nextCursor}`)
      .set(auth)
      .expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ botId: '2000001' })], nextCursor: null });
    expectErrorBody(await api().get('/admin/api/works/bots?limit=0').set(auth), 400, 'VALIDATION_ERROR', {
      details: 'required',
    });
  });

  it('updates any field; a new secret replaces the stored one and is not returned', async () => {
    const newKey = rsaPem();
    const res = await api()
      .patch('/admin/api/works/bots/2000001')
      .set(auth)
      .send({ name: 'renamed', clientId: 'client-2', botSecret: 'rotated-bot-secret', privateKey: newKey })
      .expect(200);
    expect(res.body).toMatchObject({
      botId: '2000001',
      name: 'renamed',
      clientId: 'client-2',
      enabled: true,
    });
    expect(res.text).not.toContain('rotated-bot-secret');
    expectNoSecrets(res.text);
    const stored = await relay.app.get(WorksBotStore).findByBotId('2000001');
    expect(stored).toMatchObject({
      name: 'renamed',
      clientId: 'client-2',
      botSecret: 'rotated-bot-secret',
      clientSecret: CLIENT_SECRET,
      privateKey: newKey,
      serviceAccount: 'svc-2000001@example.works',
    });
    // null clears the name only; other fields refuse it; the id is the path's.
    await api().patch('/admin/api/works/bots/2000001').set(auth).send({ name: null }).expect(200);
    expect((await api().get('/admin/api/works/bots/2000001').set(auth)).body.name).toBeNull();
    for (const body of [{ clientId: null }, { privateKey: EC_KEY }, { botId: '3' }, { enabled: 'yes' }]) {
      const error = expectErrorBody(
        await api().patch('/admin/api/works/bots/2000001').set(auth).send(body),
        400,
        'VALIDATION_ERROR',
        { details: 'required' },
      );
      expect([...new Set(error.details?.map((d) => d.field))]).toEqual([Object.keys(body)[0]]);
    }
    expectErrorBody(
      await api().patch('/admin/api/works/bots/2999999').set(auth).send({ name: 'x' }),
      404,
      'WORKS_BOT_NOT_FOUND',
    );
  });

  it('disables and enables a bot', async () => {
    const off = await api().post('/admin/api/works/bots/2000001/disable').set(auth).expect(200);
    expect(off.body).toMatchObject({ botId: '2000001', enabled: false });
    expect((await relay.app.get(WorksBotStore).findByBotId('2000001'))?.enabled).toBe(false);
    const on = await api().post('/admin/api/works/bots/2000001/enable').set(auth).expect(200);
    expect(on.body).toMatchObject({ botId: '2000001', enabled: true });
    await api().patch('/admin/api/works/bots/2000001').set(auth).send({ enabled: false }).expect(200);
    expect((await relay.app.get(WorksBotStore).findByBotId('2000001'))?.enabled).toBe(false);
    expectErrorBody(
      await api().post('/admin/api/works/bots/2999999/disable').set(auth),
      404,
      'WORKS_BOT_NOT_FOUND',
    );
    expectErrorBody(
      await api().post('/admin/api/works/bots/2999999/enable').set(auth),
      404,
      'WORKS_BOT_NOT_FOUND',
    );
  });

  it('deletes a bot (204), then it is unknown', async () => {
    await api().delete('/admin/api/works/bots/2000002').set(auth).expect(204);
    expectErrorBody(await api().get('/admin/api/works/bots/2000002').set(auth), 404, 'WORKS_BOT_NOT_FOUND');
    expectErrorBody(
      await api().delete('/admin/api/works/bots/2000002').set(auth),
      404,
      'WORKS_BOT_NOT_FOUND',
    );
    expect(await relay.app.get(WorksBotStore).findByBotId('2000002')).toBeNull();
  });

  it('answers the WORKS_* bot from the configuration, without the database or the key', async () => {
    expect(await relay.app.get(WorksBotStore).findByBotId('env-bot')).toEqual({
      botId: 'env-bot',
      name: null,
      enabled: true,
      botSecret: 'env-bot-secret',
      clientId: 'env-client',
      clientSecret: 'env-client-secret',
      serviceAccount: 'env-svc@example.works',
      privateKey: ENV_PRIVATE_KEY,
    });
    expect((await sql(`SELECT 1 FROM works_bots WHERE bot_id = 'env-bot'`)).length).toBe(0);
  });

  describe('without RELAY_SECRETS_KEY', () => {
    let keyless: RunningRelay;
    beforeAll(async () => {
      keyless = await startRelay({ WORKER_IN_PROCESS: 'false' });
    });
    afterAll(() => keyless?.close());

    it('refuses to store a secret: 503 SECRETS_KEY_MISSING naming the variable', async () => {
      const create = await request(keyless.url).post('/admin/api/works/bots').set(auth).send(bot('2000005'));
      expectErrorBody(create, 503, 'SECRETS_KEY_MISSING', { message: 'RELAY_SECRETS_KEY' });
      expect((await sql(`SELECT 1 FROM works_bots WHERE bot_id = '2000005'`)).length).toBe(0);
      const rotate = await request(keyless.url)
        .patch('/admin/api/works/bots/2000001')
        .set(auth)
        .send({ clientSecret: 'new-secret' });
      expectErrorBody(rotate, 503, 'SECRETS_KEY_MISSING', { message: 'RELAY_SECRETS_KEY' });
      // What stores no secret still works: reading, renaming, disabling, deleting.
      await request(keyless.url).get('/admin/api/works/bots/2000001').set(auth).expect(200);
      await request(keyless.url)
        .patch('/admin/api/works/bots/2000001')
        .set(auth)
        .send({ name: 'n' })
        .expect(200);
      await request(keyless.url).post('/admin/api/works/bots/2000001/enable').set(auth).expect(200);
    });

    it("cannot open another key's secrets either (the callback would answer 503)", async () => {
      await expect(keyless.app.get(WorksBotStore).findByBotId('2000001')).rejects.toMatchObject({
        code: 'SECRETS_KEY_MISSING',
      });
    });
  });

  it('a relay with another key refuses to open the stored secrets (SECRET_UNREADABLE)', async () => {
    const other = await startRelay({
      RELAY_SECRETS_KEY: randomBytes(32).toString('hex'),
      WORKER_IN_PROCESS: 'false',
    });
    try {
      await expect(other.app.get(WorksBotStore).findByBotId('2000001')).rejects.toMatchObject({
        code: 'SECRET_UNREADABLE',
      });
    } finally {
      await other.close();
    }
  });
});
