import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { KO, type KakaoSkillPayload } from '@app/core';
import { RedisService } from '@app/messaging';
import { InboundMessagesRepository } from '@app/persistence';
import { RelayMetrics } from '@app/platform';
import {
  createSession,
  pairAgent,
  PairedAgent,
  postWebhookRaw,
  resetState,
  sql,
  TEST_DATABASE_URL,
  textOf,
  uniqueCallbackUrl,
  userMessage,
  waitUntil,
  expectErrorBody,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

const SKILL_SECRET = 'skill-secret-for-bounds';
const FIXTURE_BOT = '65f1e2d3c4b5a69788796a5b';

async function rowsOf(accountId: string): Promise<number> {
  return (
    await sql<{ n: number }>('SELECT count(*)::int AS n FROM inbound_messages WHERE account_id = $1', [
      accountId,
    ])
  )[0].n;
}

function withChanges(base: KakaoSkillPayload, change: (p: KakaoSkillPayload) => void): KakaoSkillPayload {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

describe('webhook input bounds (e2e)', () => {
  let relay: RunningRelay;
  let agent: PairedAgent;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay();
    agent = await pairAgent(relay.url, 'bounds-user');
  });
  afterAll(() => relay.close());

  const KAKAO_CB = 'https://bot-api.kakao.com/v1/callback/';
  const cases: Array<[string, (p: KakaoSkillPayload) => void, RegExp]> = [
    [
      'a user id of 257 characters',
      (p) => {
        p.userRequest.user.id = 'u'.repeat(257);
        delete p.userRequest.user.properties;
      },
      /user\.id|id must be shorter/,
    ],
    [
      'a plusfriendUserKey of 257 characters',
      (p) => (p.userRequest.user.properties!.plusfriendUserKey = 'k'.repeat(257)),
      /plusfriendUserKey/,
    ],
    [
      'a plusfriendUserKey of 900 KB',
      (p) => (p.userRequest.user.properties!.plusfriendUserKey = 'k'.repeat(900_000)),
      /plusfriendUserKey/,
    ],
    ['a bot id of 257 characters', (p) => (p.bot = { id: 'b'.repeat(257) }), /bot\.id|id must be shorter/],
    [
      'a callbackUrl of 2,048 Hangul characters',
      (p) => (p.userRequest.callbackUrl = KAKAO_CB + '가'.repeat(2048 - KAKAO_CB.length)),
      /callbackUrl/,
    ],
    [
      'a callbackUrl of 400 Hangul characters (over 1 KiB in UTF-8)',
      (p) => (p.userRequest.callbackUrl = KAKAO_CB + '가'.repeat(400)),
      /at most 1024 bytes/,
    ],
    [
      'a callbackUrl of 1,025 ASCII characters',
      (p) => (p.userRequest.callbackUrl = KAKAO_CB + 'a'.repeat(1025 - KAKAO_CB.length)),
      /callbackUrl/,
    ],
    [
      'an http callbackUrl',
      (p) => (p.userRequest.callbackUrl = 'http://bot-api.kakao.com/v1/callback/x'),
      /https/,
    ],
    [
      'a callbackUrl on another host',
      (p) => (p.userRequest.callbackUrl = 'https://evil.example/v1/callback/x'),
      /not in KAKAO_CALLBACK_ALLOWED_HOSTS/,
    ],
    [
      'a callbackUrl on port 8443',
      (p) => (p.userRequest.callbackUrl = 'https://bot-api.kakao.com:8443/v1/callback/x'),
      /port 443/,
    ],
    [
      'a callbackUrl with credentials',
      (p) => (p.userRequest.callbackUrl = 'https://me:pw@bot-api.kakao.com/v1/callback/x'),
      /credentials/,
    ],
    [
      'a callbackUrl on a private IP literal',
      (p) => (p.userRequest.callbackUrl = 'https://10.0.0.1/v1/callback/x'),
      /not in KAKAO_CALLBACK_ALLOWED_HOSTS/,
    ],
    ['a callbackUrl that is not a URL', (p) => (p.userRequest.callbackUrl = 'not a url'), /not a valid URL/],
  ];

  it.each(cases)(
    'refuses %s with 400, sent whole or chunked, and stores nothing',
    async (_name, change, detail) => {
      const before = await rowsOf(agent.accountId);
      const raw = JSON.stringify(withChanges(userMessage('bounds-user', 'bounded'), change));
      const headers = { 'Content-Type': 'application/json' };
      const whole = await postWebhookRaw(relay.url, raw, headers, false);
      const chunked = await postWebhookRaw(relay.url, raw, headers, true);
      for (const answer of [whole, chunked]) {
        expectErrorBody(answer, 400, 'VALIDATION_ERROR', { details: 'required' });
        expect(JSON.stringify(answer.body)).toMatch(detail);
      }
      expect(chunked.body).toEqual(whole.body);
      expect(await rowsOf(agent.accountId)).toBe(before);
    },
  );

  it('never turns a huge plusfriendUserKey into a Redis key', async () => {
    const raw = JSON.stringify(
      withChanges(
        userMessage('bounds-user', 'x'),
        (p) => (p.userRequest.user.properties!.plusfriendUserKey = 'z'.repeat(900_000)),
      ),
    );
    expect((await postWebhookRaw(relay.url, raw, { 'Content-Type': 'application/json' }, false)).status).toBe(
      400,
    );
    const keys = await relay.app.get(RedisService).command.keys('*');
    expect(keys.filter((k) => k.length > 1024)).toEqual([]);
  });

  it('accepts ids of 256 characters and a Kakao callbackUrl of exactly 1 KiB', async () => {
    const before = await rowsOf(agent.accountId);
    const callbackUrl = uniqueCallbackUrl();
    const exact = callbackUrl + '/' + 'a'.repeat(1024 - callbackUrl.length - 1);
    const stored = await postWebhookRaw(
      relay.url,
      JSON.stringify(userMessage('bounds-user', 'exactly 1 KiB', exact)),
      { 'Content-Type': 'application/json' },
      false,
    );
    expect(stored.body).toEqual({ version: '2.0', useCallback: true });
    expect(await rowsOf(agent.accountId)).toBe(before + 1);
    const longIds = withChanges(userMessage('k'.repeat(256), 'long ids'), (p) => {
      p.userRequest.user.id = 'u'.repeat(256);
      p.bot = { id: 'b'.repeat(256) };
    });
    const unpaired = await postWebhookRaw(
      relay.url,
      JSON.stringify(longIds),
      { 'Content-Type': 'application/json' },
      true,
    );
    expect(unpaired.status).toBe(200);
    expect(textOf(unpaired.body as never)).toContain('/pair');
  });
});

describe('KAKAO_ALLOWED_BOT_IDS (e2e)', () => {
  let relay: RunningRelay;
  let accountId: string;
  const auth = { 'Content-Type': 'application/json', 'X-Relay-Skill-Secret': SKILL_SECRET };

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({
      KAKAO_SKILL_SECRET: SKILL_SECRET,
      KAKAO_ALLOWED_BOT_IDS: `other-listed-bot, ${FIXTURE_BOT}`,
    });
    const session = await createSession(relay.url);
    const pair = await postWebhookRaw(
      relay.url,
      JSON.stringify(userMessage('allow-user', `/pair ${session.pairingCode}`, null)),
      auth,
      false,
    );
    expect(pair.status).toBe(200);
    const status = await request(relay.url).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
    expect(status.body.status).toBe('paired');
    accountId = status.body.accountId as string;
  });
  afterAll(() => relay.close());

  it('stores a message of a listed bot', async () => {
    const before = await rowsOf(accountId);
    const answer = await postWebhookRaw(
      relay.url,
      JSON.stringify(userMessage('allow-user', 'hello')),
      auth,
      false,
    );
    expect(answer.body).toEqual({ version: '2.0', useCallback: true });
    expect(await rowsOf(accountId)).toBe(before + 1);
  });

  it.each<[string, (p: KakaoSkillPayload) => void]>([
    ['another bot', (p) => (p.bot = { id: 'intruder-bot', name: 'x' })],
    ['a bot id differing in case', (p) => (p.bot = { id: FIXTURE_BOT.toUpperCase() })],
    ['no bot', (p) => delete p.bot],
    ['a bot without id', (p) => (p.bot = { name: 'anonymous' })],
    [
      'another bot sending /unpair',
      (p) => {
        p.bot = { id: 'intruder-bot' };
        p.userRequest.utterance = '/unpair';
      },
    ],
  ])('refuses %s with 403 BOT_NOT_ALLOWED, sent whole or chunked, storing nothing', async (_name, change) => {
    const before = await rowsOf(accountId);
    const raw = JSON.stringify(withChanges(userMessage('allow-user', 'from elsewhere'), change));
    const whole = await postWebhookRaw(relay.url, raw, auth, false);
    const chunked = await postWebhookRaw(relay.url, raw, auth, true);
    for (const answer of [whole, chunked]) {
      expectErrorBody(answer, 403, 'BOT_NOT_ALLOWED');
    }
    expect(await rowsOf(accountId)).toBe(before);
    const [conversation] = await sql<{ state: string }>(
      'SELECT state FROM conversations WHERE account_id = $1',
      [accountId],
    );
    expect(conversation.state).toBe('paired');
  });

  it('decides authentication first: an unauthenticated foreign bot gets 401', async () => {
    const raw = JSON.stringify(
      withChanges(userMessage('allow-user', 'x'), (p) => (p.bot = { id: 'intruder' })),
    );
    const answer = await postWebhookRaw(relay.url, raw, { 'Content-Type': 'application/json' }, false);
    expect(answer.status).toBe(401);
    const signed = createHmac('sha256', 'unused').update(raw).digest('hex');
    const chunked = await postWebhookRaw(
      relay.url,
      raw,
      { 'Content-Type': 'application/json', 'X-Kakao-Signature': signed },
      true,
    );
    expect(chunked.status).toBe(401);
  });
});

describe('bounded store queue (e2e)', () => {
  let relay: RunningRelay;
  let agent: PairedAgent;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ STORE_QUEUE_MAX: '1' });
    agent = await pairAgent(relay.url, 'queue-user');
  });
  afterAll(() => relay.close());

  it('answers "temporarily unavailable" with Retry-After when the queue is full, and stores all it accepted', async () => {
    const batcher = (relay.app.get(InboundMessagesRepository) as unknown as { batcher: { waiting: number } })
      .batcher;
    const metrics = relay.app.get(RelayMetrics);
    const overloaded = async () =>
      (await metrics.webhookRequests.get()).values.find((v) => v.labels.result === 'overloaded')?.value ?? 0;
    const overloadedBefore = await overloaded();
    const json = { 'Content-Type': 'application/json' };
    const send = (text: string, chunked = false) =>
      postWebhookRaw(relay.url, JSON.stringify(userMessage('queue-user', text)), json, chunked);

    // Hold the account row: the store's batch (which locks it) waits until we let go.
    const holder = new Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    let accepted: Array<Promise<Awaited<ReturnType<typeof send>>>> = [];
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM accounts WHERE id = $1 FOR UPDATE', [agent.accountId]);
      const first = send('accepted 1'); // runs, and waits for the lock
      await waitUntil(async () => {
        const [{ n }] = await sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        return n > 0;
      });
      const second = send('accepted 2', true); // waits in the queue: it is full now
      await waitUntil(() => batcher.waiting === 1);
      accepted = [first, second];

      for (const chunked of [false, true]) {
        const refused = await send(`refused ${chunked}`, chunked);
        expect(refused.status).toBe(200);
        expect(refused.headers['retry-after']).toBe('1');
        expect(textOf(refused.body as never)).toBe(KO.unavailable);
      }
      expect(await overloaded()).toBe(overloadedBefore + 2);
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
    }
    for (const answer of await Promise.all(accepted)) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ version: '2.0', useCallback: true });
      expect(answer.headers['retry-after']).toBeUndefined();
    }
    const rows = await sql<{ text: string }>(
      `SELECT normalized->>'text' AS text FROM inbound_messages WHERE account_id = $1 ORDER BY seq`,
      [agent.accountId],
    );
    expect(rows.map((r) => r.text)).toEqual(['accepted 1', 'accepted 2']);
    // Room again once the queue drained.
    expect((await send('after the rush')).body).toEqual({ version: '2.0', useCallback: true });
  });
});
