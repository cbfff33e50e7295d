import { createHmac } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import request from 'supertest';
import {
  expectErrorBody,
  kakaoPayload,
  openStream,
  pairAgent,
  postWebhook,
  resetState,
  sendMessage,
  SseClient,
  sql,
  textOf,
  uniqueCallbackUrl,
  userMessage,
  waitUntil,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

const SKILL_SECRET = 'skill-secret-for-tests';
const SIGNATURE_SECRET = 'signature-secret-for-tests';

async function inboundCount(): Promise<number> {
  return (await sql<{ n: number }>('SELECT count(*)::int AS n FROM inbound_messages'))[0].n;
}

describe('Kakao webhook (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ INLINE_REPLY_TIMEOUT_MS: '300' });
  });
  afterAll(() => relay.close());

  it('tells an unpaired user how to pair and stores nothing', async () => {
    const before = await inboundCount();
    const res = await postWebhook(relay.url, userMessage('stranger', '안녕'));
    expect(res.status).toBe(200);
    expect(res.body.version).toBe('2.0');
    expect(textOf(res.body)).toContain('/pair');
    expect(await inboundCount()).toBe(before);
  });

  it.each([
    ['non-JSON', '{"userRequest": ', 'VALIDATION_ERROR'],
    ['a JSON array', '[1,2]', 'VALIDATION_ERROR'],
    ['a JSON string', '"hello"', 'VALIDATION_ERROR'],
    ['no userRequest', '{"bot":{"id":"x"}}', 'VALIDATION_ERROR'],
    [
      'no user id',
      JSON.stringify({ userRequest: { utterance: 'hi', user: { properties: {} } } }),
      'VALIDATION_ERROR',
    ],
    [
      'an empty user id',
      JSON.stringify({ userRequest: { utterance: 'hi', user: { id: '' } } }),
      'VALIDATION_ERROR',
    ],
    ['no utterance', JSON.stringify({ userRequest: { user: { id: 'u1' } } }), 'VALIDATION_ERROR'],
    [
      'a numeric utterance',
      JSON.stringify({ userRequest: { utterance: 5, user: { id: 'u1' } } }),
      'VALIDATION_ERROR',
    ],
    [
      'a non-string callbackUrl',
      JSON.stringify({ userRequest: { utterance: 'x', user: { id: 'u' }, callbackUrl: 1 } }),
      'VALIDATION_ERROR',
    ],
  ])('answers %s with 400 and the error body', async (_name, body, code) => {
    const res = await postWebhook(relay.url, body);
    expectErrorBody(res, 400, code, { details: 'allowed' });
  });

  it('answers an empty body with 400', async () => {
    const res = await request(relay.url)
      .post('/kakao/webhook')
      .set('Content-Type', 'application/json')
      .send('');
    expectErrorBody(res, 400, 'VALIDATION_ERROR');
  });

  it('answers a 2 MiB body with 413 and the error body', async () => {
    const payload = kakaoPayload({ utterance: 'x'.repeat(2 * 1024 * 1024) });
    const res = await postWebhook(relay.url, payload);
    expectErrorBody(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('stores a paired user message before answering useCallback, once per callbackUrl', async () => {
    const agent = await pairAgent(relay.url, 'dup-user');
    const payload = userMessage('dup-user', 'same request twice', uniqueCallbackUrl());
    const [a, b] = await Promise.all([sendMessage(relay.url, payload), sendMessage(relay.url, payload)]);
    expect(a).toEqual({ version: '2.0', useCallback: true });
    expect(b).toEqual({ version: '2.0', useCallback: true });
    expect(await sendMessage(relay.url, payload)).toEqual({ version: '2.0', useCallback: true });
    const rows = await sql('SELECT id FROM inbound_messages WHERE account_id = $1', [agent.accountId]);
    expect(rows).toHaveLength(1);
    const stream = await openStream(relay.url, agent.token);
    await stream.waitFor('message');
    // A sentinel proves the duplicate never reached the stream.
    await sendMessage(relay.url, userMessage('dup-user', 'sentinel'));
    await stream.waitForCount('message', 2);
    expect(stream.dataOf<{ normalized: { text: string } }>('message').map((m) => m.normalized.text)).toEqual([
      'same request twice',
      'sentinel',
    ]);
    stream.close();
  });

  it('keeps the full original payload, unknown fields included', async () => {
    const agent = await pairAgent(relay.url, 'quick-reply-user');
    const payload = {
      ...userMessage('quick-reply-user', '버튼을 눌렀어요'),
      someFutureField: { nested: [1, 'two', null] },
    };
    await sendMessage(relay.url, payload);
    const [row] = await sql<{ kakao_payload: unknown }>(
      'SELECT kakao_payload FROM inbound_messages WHERE account_id = $1',
      [agent.accountId],
    );
    expect(row.kakao_payload).toEqual(payload);
  });

  it('inline mode without a reply answers with a short "not ready" text', async () => {
    const agent = await pairAgent(relay.url, 'inline-user');
    const started = Date.now();
    const answer = await sendMessage(relay.url, userMessage('inline-user', 'no callback here', null));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(textOf(answer)).toContain('답변을 준비하고');
    const rows = await sql('SELECT callback_url FROM inbound_messages WHERE account_id = $1', [
      agent.accountId,
    ]);
    expect(rows).toEqual([{ callback_url: null }]);
  });
});

describe('Kakao webhook authentication (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay({ KAKAO_SKILL_SECRET: SKILL_SECRET, KAKAO_SIGNATURE_SECRET: SIGNATURE_SECRET });
  });
  afterAll(() => relay.close());

  const body = JSON.stringify(kakaoPayload({ utterance: '/help', userKey: 'auth-user' }));
  const sign = (raw: string, secret = SIGNATURE_SECRET) =>
    createHmac('sha256', secret).update(raw).digest('hex');

  it('accepts the right secret and signature', async () => {
    const res = await postWebhook(relay.url, body, {
      'X-Relay-Skill-Secret': SKILL_SECRET,
      'X-Kakao-Signature': sign(body),
    });
    expect(res.status).toBe(200);
    expect(textOf(res.body)).toContain('/pair');
  });

  it.each([
    ['no secret', { 'X-Kakao-Signature': sign(body) }, 'INVALID_SKILL_SECRET'],
    [
      'a wrong secret',
      { 'X-Relay-Skill-Secret': 'wrong', 'X-Kakao-Signature': sign(body) },
      'INVALID_SKILL_SECRET',
    ],
    ['no signature', { 'X-Relay-Skill-Secret': SKILL_SECRET }, 'INVALID_SIGNATURE'],
    [
      'a wrong signature',
      { 'X-Relay-Skill-Secret': SKILL_SECRET, 'X-Kakao-Signature': sign(body, 'other') },
      'INVALID_SIGNATURE',
    ],
  ])('refuses %s with 401 and the error body', async (_name, headers, code) => {
    const res = await postWebhook(relay.url, body, headers as Record<string, string>);
    expectErrorBody(res, 401, code);
  });

  it('checks authentication before parsing: garbage without the secret is 401', async () => {
    const res = await postWebhook(relay.url, '{not json');
    expect(res.status).toBe(401);
  });

  it('refuses a signature over a different body', async () => {
    const res = await postWebhook(relay.url, body.replace('/help', '/status'), {
      'X-Relay-Skill-Secret': SKILL_SECRET,
      'X-Kakao-Signature': sign(body),
    });
    expect(res.status).toBe(401);
  });
});

describe('agent stream authentication (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it.each([
    ['no token', undefined, 'TOKEN_MISSING'],
    ['a malformed token', 'abc', 'INVALID_TOKEN'],
    ['an unknown token', 'f'.repeat(64), 'INVALID_TOKEN'],
  ])('answers %s with 401, the error body and no stream', async (_name, token, code) => {
    const client = await SseClient.connect(relay.url, { token });
    await client.waitForEnd();
    expectErrorBody(client, 401, code);
  });
});

describe('webhook request log (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay({ LOG_LEVEL: 'info', KAKAO_SKILL_SECRET: SKILL_SECRET });
  });
  afterAll(() => relay.close());

  it('writes the "request completed" line pino-http would: level by status, the request id', async () => {
    const root = PinoLogger.root;
    const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
    const spies = (['info', 'warn'] as const).map((level) =>
      jest.spyOn(root, level).mockImplementation(((fields: Record<string, unknown>, msg?: string) => {
        if (msg === 'request completed') lines.push({ level, fields });
      }) as never),
    );
    try {
      const body = JSON.stringify(kakaoPayload({ utterance: '/help', userKey: 'log-user' }));
      await postWebhook(relay.url, body, { 'X-Relay-Skill-Secret': SKILL_SECRET, 'X-Request-Id': 'log-ok' });
      await postWebhook(relay.url, body, { 'X-Request-Id': 'log-denied' });
      await waitUntil(async () => lines.length === 2);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn']);
    const [ok, denied] = lines.map(
      (l) => l.fields as { req: IncomingMessage & { id: string }; res: ServerResponse },
    );
    expect(ok.req.id).toBe('log-ok');
    expect(ok.res.statusCode).toBe(200);
    expect(denied.req.id).toBe('log-denied');
    expect(denied.res.statusCode).toBe(401);
    expect(lines[0].fields.responseTime).toEqual(expect.any(Number));
  });
});
