import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { decodeForMatching } from '@app/platform';
import {
  kakaoPayload,
  sql,
  TEST_ADMIN_TOKEN,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  waitUntil,
} from '@app/testing';
import { RelayProcess, spawnRelay } from './support/relay-process';

/** One request with the request target exactly as given (no client-side normalisation of the path). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const encodeAll = (s: string) =>
  [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');

describe("the relay's log never holds a token, in any encoding (e2e)", () => {
  let relay: RelayProcess;

  beforeAll(async () => {
    relay = await spawnRelay({
      LOG_LEVEL: 'info',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-logs`,
    });
  }, 60000);
  afterAll(async () => {
    await relay?.kill();
  });

  it('redacts query tokens under any spelling and the status URL token under any path form', async () => {
    const created = await send(
      relay.port,
      'POST',
      '/v1/sessions/create',
      { 'Content-Type': 'application/json' },
      '{}',
    );
    expect(created.status).toBe(200);
    const session = JSON.parse(created.body).sessionToken as string;
    const token = randomBytes(32).toString('hex');
    const webhook = JSON.stringify(kakaoPayload({ utterance: '/help', userKey: 'log-redaction-user' }));
    const json = { 'Content-Type': 'application/json' };
    const requests: Array<[string, string, Record<string, string>?, string?]> = [
      ['GET', `/v1/events?token=${token}`],
      ['GET', `/v1/events?%74oken=${token}`],
      ['GET', `/v1/events?%2574oken=${token}`],
      ['GET', `/v1/events?TOKEN=${token}`],
      ['GET', `/v1/events?token%3D${token}`],
      ['GET', `/v1/events?access_token=${token}`],
      ['GET', `/v1/events?x=1;token=${token}`],
      ['GET', `/v1/events?a=${encodeAll(token)}`],
      ['GET', `/v1/events`, { Authorization: `Bearer ${token}` }],
      ['GET', `/metrics?token=${token}`],
      ['GET', `/v1/sessions/${token}/status`],
      ['GET', `/v1/sessions/${session}/status`],
      ['GET', `/V1/Sessions/${session}/STATUS`],
      ['GET', `//v1//sessions//${session}/status`],
      ['GET', `/v1/sessions/${encodeAll(session)}/status`],
      ['GET', `/v1%2Fsessions%2F${session}%2Fstatus`],
      ['POST', `/openclaw/reply?token=${token}`, { ...json, Authorization: `Bearer ${token}` }, '{}'],
      // The webhook's fast path writes its own line.
      ['POST', `/kakao/webhook?%74oken=${token}`, json, webhook],
      ['POST', `/kakao/webhook?token%3D${session}`, json, webhook],
    ];
    const before = (relay.output().match(/"request completed"/g) ?? []).length;
    for (const [method, path, headers, body] of requests) {
      const res = await send(relay.port, method, path, headers, body);
      expect(res.status).toBeGreaterThanOrEqual(200);
    }
    await waitUntil(
      async () => (relay.output().match(/"request completed"/g) ?? []).length >= before + requests.length,
      10000,
    );
    const output = relay.output();
    // The lines are there (the webhook's fast path included)...
    expect(output).toContain('"url":"/kakao/webhook?%74oken=[REDACTED]"');
    expect(output).toContain('"url":"/v1/sessions/[REDACTED]/status"');
    // ...and neither token appears anywhere, raw or percent-encoded, in any case.
    for (const secret of [token, session]) {
      expect(output.toLowerCase()).not.toContain(secret);
      expect(decodeForMatching(output).toLowerCase()).not.toContain(secret);
    }
  });
});

describe("the relay's log never holds a Works bot's secrets or private key (e2e)", () => {
  let relay: RelayProcess;
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const botSecret = `bot-secret-${randomBytes(16).toString('hex')}`;
  const clientSecret = `client-secret-${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    await sql(`DELETE FROM works_bots WHERE bot_id LIKE 'log-redaction-%'`);
    // The most verbose level: whatever any part of the relay writes, a request body is never in it.
    relay = await spawnRelay({
      LOG_LEVEL: 'trace',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-logs-works`,
      RELAY_SECRETS_KEY: randomBytes(32).toString('hex'),
    });
  }, 60000);
  afterAll(async () => {
    await relay?.kill();
    await sql(`DELETE FROM works_bots WHERE bot_id LIKE 'log-redaction-%'`);
  });

  it('logs the admin routes of Works bots without their request bodies', async () => {
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const bot = {
      botId: 'log-redaction-1',
      botSecret,
      clientId: 'client',
      clientSecret,
      serviceAccount: 'svc@example.works',
      privateKey,
    };
    const path = '/admin/api/works/bots';
    const requests: Array<[string, string, unknown, number]> = [
      ['POST', path, bot, 201],
      ['POST', path, bot, 409],
      ['POST', path, { ...bot, botId: 'log-redaction-2', privateKey: ecKey }, 400],
      ['POST', path, { ...bot, botId: 'log-redaction-3', clientId: undefined }, 400],
      ['PATCH', `${path}/log-redaction-1`, { botSecret, clientSecret, privateKey }, 200],
      ['PATCH', `${path}/log-redaction-1`, { privateKey: 'not a key', botSecret }, 400],
    ];
    const before = (relay.output().match(/"request completed"/g) ?? []).length;
    for (const [method, url, body, status] of requests) {
      const res = await send(relay.port, method, url, headers, JSON.stringify(body));
      expect(res.status).toBe(status);
    }
    await waitUntil(
      async () => (relay.output().match(/"request completed"/g) ?? []).length >= before + requests.length,
      10000,
    );
    const output = relay.output();
    expect(output).toContain('"url":"/admin/api/works/bots"');
    for (const secret of [
      botSecret,
      clientSecret,
      'PRIVATE KEY',
      ...[privateKey, ecKey].map((k) => k.split('\n')[1]),
    ]) {
      expect(output).not.toContain(secret);
      expect(decodeForMatching(output)).not.toContain(secret);
    }
  });
});
