import request from 'supertest';
import {
  createSession,
  kakaoPayload,
  openStream,
  pairAgent,
  postReply,
  postWebhook,
  resetState,
  sendMessage,
  sendPair,
  SseClient,
  sql,
  textOf,
  textReply,
  userMessage,
  waitUntil,
  expectErrorBody,
} from '@app/testing';
import { RunningRelay, startRelay, endRateLimitWindows } from './support/test-app';
import { CleanupService } from '@app/jobs';

const ADMIN_TOKEN = 'admin-token-for-guard-tests-0123';

function expectLimitHeaders(res: request.Response, limit: number): void {
  expectErrorBody(res, 429, 'RATE_LIMITED', {
    retryAfter: true,
    headers: { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': '0' },
  });
  expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
}

describe('rate limits across two instances (e2e)', () => {
  let a: RunningRelay;
  let b: RunningRelay;
  const both = () => [a, b];

  beforeAll(async () => {
    await resetState();
    const limits = {
      RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '10',
      RATE_LIMIT_SESSION_STATUS_PER_MINUTE: '30',
      RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE: '30',
      RATE_LIMIT_REPLIES_PER_MINUTE: '5',
      WEBHOOK_USER_MESSAGES_PER_MINUTE: '20',
    };
    [a, b] = await Promise.all([startRelay(limits), startRelay(limits)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  // Each test starts with fresh windows (they are shared by the whole process: every request is from 127.0.0.1).
  beforeEach(() => endRateLimitWindows(a, '*'));

  it('session create: 10 per 5 minutes per IP, then 429 with headers; resets after the window', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await request(both()[i % 2].url)
        .post('/v1/sessions/create')
        .expect(200);
      expect(res.headers['x-ratelimit-limit']).toBe('10');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(9 - i));
    }
    expectLimitHeaders(await request(a.url).post('/v1/sessions/create'), 10);
    expectLimitHeaders(await request(b.url).post('/v1/sessions/create'), 10);
    expect(
      Number((await request(b.url).post('/v1/sessions/create')).headers['x-ratelimit-reset']),
    ).toBeLessThanOrEqual(300);
    await endRateLimitWindows(a, 'session-create');
    await request(b.url).post('/v1/sessions/create').expect(200);
  });

  it('session status: 30 per minute per IP', async () => {
    await endRateLimitWindows(a, 'session-create');
    const session = await createSession(a.url);
    for (let i = 0; i < 30; i++) {
      await request(both()[i % 2].url)
        .get(`/v1/sessions/${session.sessionToken}/status`)
        .expect(200);
    }
    expectLimitHeaders(await request(a.url).get(`/v1/sessions/${session.sessionToken}/status`), 30);
    await endRateLimitWindows(b, 'session-status');
    await request(a.url).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    await endRateLimitWindows(a, 'session-create');
    for (let i = 0; i < 10; i++) {
      await request(a.url).post('/v1/sessions/create').set('X-Forwarded-For', `10.0.0.${i}`).expect(200);
    }
    expect((await request(a.url).post('/v1/sessions/create').set('X-Forwarded-For', '10.9.9.9')).status).toBe(
      429,
    );
    await endRateLimitWindows(a, 'session-create');
    const proxied = await startRelay({ TRUST_PROXY: 'true', RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '10' });
    try {
      for (let i = 0; i < 10; i++) {
        await request(proxied.url)
          .post('/v1/sessions/create')
          .set('X-Forwarded-For', '203.0.113.7')
          .expect(200);
      }
      expect(
        (await request(proxied.url).post('/v1/sessions/create').set('X-Forwarded-For', '203.0.113.7')).status,
      ).toBe(429);
      await request(proxied.url)
        .post('/v1/sessions/create')
        .set('X-Forwarded-For', '203.0.113.8')
        .expect(200);
    } finally {
      await proxied.close();
      await endRateLimitWindows(a, 'session-create');
    }
  });

  it('stream connects: 30 per minute per token', async () => {
    await endRateLimitWindows(a, 'session-create');
    const agent = await pairAgent(a.url, 'connect-limit-user');
    for (let i = 0; i < 30; i++) {
      const s = await openStream(both()[i % 2].url, agent.token);
      s.close();
    }
    const refused = await SseClient.connect(b.url, { token: agent.token });
    await refused.waitForEnd();
    expectErrorBody(refused, 429, 'RATE_LIMITED', { retryAfter: true });
    await endRateLimitWindows(a, 'stream-connect');
    (await openStream(a.url, agent.token)).close();
  });

  it('replies: RATE_LIMIT_REPLIES_PER_MINUTE per account', async () => {
    await endRateLimitWindows(a, 'session-create');
    const agent = await pairAgent(a.url, 'reply-limit-user');
    const stream = await openStream(a.url, agent.token);
    await sendMessage(a.url, userMessage('reply-limit-user', 'q'));
    const messageId = JSON.parse((await stream.waitFor('message')).data).id as string;
    for (let i = 0; i < 5; i++) {
      await postReply(both()[i % 2].url, agent.token, { messageId, response: textReply(`part ${i}`) }).expect(
        200,
      );
    }
    expectLimitHeaders(
      await postReply(b.url, agent.token, { messageId, response: textReply('one too many') }),
      5,
    );
    await endRateLimitWindows(b, 'reply');
    const after = await postReply(a.url, agent.token, { messageId, response: textReply('after the window') });
    expect(after.status).not.toBe(429);
    stream.close();
  });

  it('/pair attempts: 5 per 10 minutes per conversation, answered in Korean', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++)
      answers.push(await sendPair(both()[i % 2].url, 'AAAA-AAAA', 'pair-limit-user'));
    expect(answers.slice(0, 5).every((t) => t.includes('유효하지 않거나'))).toBe(true);
    expect(answers[5]).toContain('너무 많습니다');
    await endRateLimitWindows(a, 'pair');
    expect(await sendPair(b.url, 'AAAA-AAAA', 'pair-limit-user')).toContain('유효하지 않거나');
  });

  it('flood guard: past 20 messages a minute the user is asked to slow down and nothing is stored', async () => {
    await endRateLimitWindows(a, 'session-create');
    const agent = await pairAgent(a.url, 'flooding-user');
    for (let i = 0; i < 20; i++) {
      expect(await sendMessage(both()[i % 2].url, userMessage('flooding-user', `m${i}`))).toEqual({
        version: '2.0',
        useCallback: true,
      });
    }
    const slowed = await sendMessage(a.url, userMessage('flooding-user', 'one too many'));
    expect(textOf(slowed)).toContain('너무 빠르게');
    const rows = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM inbound_messages WHERE account_id = $1',
      [agent.accountId],
    );
    expect(rows[0].n).toBe(20);
    await endRateLimitWindows(b, 'user-messages');
    expect(await sendMessage(b.url, userMessage('flooding-user', 'calm again'))).toEqual({
      version: '2.0',
      useCallback: true,
    });
  });
});

describe('body limits and content types (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('refuses a reply over 256 KiB with 413', async () => {
    const agent = await pairAgent(relay.url, 'big-reply-user');
    const res = await postReply(relay.url, agent.token, {
      messageId: '6f1c1e9e-1111-4a4a-9b9b-000000000000',
      response: textReply('x'.repeat(300 * 1024)),
    });
    expectErrorBody(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['/openclaw/reply', 'text/plain'],
    ['/v1/sessions/create', 'text/plain'],
    ['/v1/sessions/create', 'application/x-www-form-urlencoded'],
    ['/kakao/webhook', 'text/plain'],
    ['/kakao/webhook', 'multipart/form-data; boundary=x'],
  ])('answers %s with %s with 415', async (path, type) => {
    const agent = await pairAgent(relay.url, `ct-${Math.random()}`);
    const res = await request(relay.url)
      .post(path)
      .set('Authorization', `Bearer ${agent.token}`)
      .set('Content-Type', type)
      .send(JSON.stringify(kakaoPayload()));
    expectErrorBody(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts application/json with a charset and vendor +json types', async () => {
    const res = await postWebhook(relay.url, kakaoPayload({ utterance: '/help' }), {
      'Content-Type': 'application/json; charset=utf-8',
    });
    expect(res.status).toBe(200);
    await request(relay.url)
      .post('/v1/sessions/create')
      .set('Content-Type', 'application/vnd.x+json')
      .send('{}')
      .expect(200);
  });
});

describe('scheduled cleanup (e2e)', () => {
  let a: RunningRelay;
  let b: RunningRelay;

  beforeAll(async () => {
    await resetState();
    const config = {
      CLEANUP_INTERVAL_SECONDS: '1',
      QUEUE_TTL_SECONDS: '1',
      CALLBACK_TTL_SECONDS: '1',
      SESSION_TTL_SECONDS: '1',
      ADMIN_TOKEN,
    };
    [a, b] = await Promise.all([startRelay(config), startRelay(config)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('expires, deletes and records each rule, once per tick across two instances', async () => {
    // queued, never taken by an agent → expired after QUEUE_TTL_SECONDS
    const idle = await pairAgent(a.url, 'idle-agent-user');
    await sendMessage(a.url, userMessage('idle-agent-user', 'nobody listens'));
    // delivered, never answered → expired after its reply deadline
    const silent = await pairAgent(a.url, 'silent-agent-user');
    const stream = await openStream(b.url, silent.token);
    await sendMessage(a.url, userMessage('silent-agent-user', 'no answer'));
    await stream.waitFor('message');
    // older than MESSAGE_RETENTION_DAYS → deleted with its outbound record
    await sendMessage(a.url, userMessage('silent-agent-user', 'ancient'));
    await sql(
      `UPDATE inbound_messages SET created_at = now() - interval '8 days' WHERE normalized->>'text' = 'ancient'`,
    );
    const [ancient] = await sql<{ id: string }>(
      `SELECT id FROM inbound_messages WHERE normalized->>'text' = 'ancient'`,
    );
    await sql(
      `INSERT INTO outbound_messages (inbound_message_id, account_id, mode, status, replies) VALUES ($1, $2, 'callback', 'sent', '[]')`,
      [ancient.id, silent.accountId],
    );
    // a messenger's recorded event and a Works send answering no message, as old → deleted with it; newer ones stay
    for (const [type, age] of [
      ['joined', '8 days'],
      ['left', '1 hour'],
    ]) {
      await sql(
        `INSERT INTO channel_events (id, channel, conversation_key, type, payload, created_at)
         VALUES (gen_random_uuid(), 'works', 'works:1:u', $1, '{}', now() - $2::interval)`,
        [type, age],
      );
      await sql(
        `INSERT INTO works_sends (id, bot_id, conversation_key, target_kind, target_id, seq, content, status, created_at)
         VALUES (gen_random_uuid(), '1', 'works:1:u', 'user', 'u', (SELECT count(*) FROM works_sends), '{}', 'sent',
                 now() - $1::interval)`,
        [age],
      );
    }
    // push deliveries as old → deleted: the ancient message's (whatever its state: no foreign key removes it) and a
    // finished one of another event; a pending one of another event and a newer one stay
    const endpointId = '00000000-0000-7000-8000-0000000000e1';
    await sql(
      `INSERT INTO push_endpoints (id, account_id, url, events, secret, message_cursor)
       VALUES ($1, $2, 'https://agent.example/hook', '{message.received}', 'whsec_x', 1000000000)`,
      [endpointId, silent.accountId],
    );
    for (const [webhookId, messageId, status, age] of [
      ['ancient-message', ancient.id, 'pending', '8 days'],
      ['old-event', null, 'delivered', '8 days'],
      ['old-pending-event', null, 'pending', '8 days'],
      ['new-event', null, 'delivered', '1 hour'],
    ]) {
      await sql(
        `INSERT INTO push_deliveries (id, endpoint_id, account_id, webhook_id, event_type, message_id, body, status,
                                      next_attempt_at, created_at)
         VALUES (gen_random_uuid(), $1, $2, $3, CASE WHEN $4::uuid IS NULL THEN 'pairing.completed'
                 ELSE 'message.received' END, $4::uuid, CASE WHEN $4::uuid IS NULL THEN '{}' END, $5,
                 CASE WHEN $5 = 'pending' THEN now() + interval '1 day' END, now() - $6::interval)`,
        [endpointId, silent.accountId, webhookId, messageId, status, age],
      );
    }
    // a pending session nobody used → expired; an ended one older than a day → deleted
    const unused = await createSession(a.url);
    const old = await createSession(a.url);
    await sql(
      `UPDATE sessions SET status = 'expired', ended_at = now() - interval '2 days' WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
      [old.sessionToken],
    );

    await waitUntil(async () => {
      const rows = await sql<{ status: string; text: string }>(
        `SELECT status, normalized->>'text' AS text FROM inbound_messages ORDER BY seq`,
      );
      const byText = Object.fromEntries(rows.map((r) => [r.text, r.status]));
      const sessions = await sql<{ status: string }>(
        `SELECT status FROM sessions WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
        [unused.sessionToken],
      );
      return (
        byText['nobody listens'] === 'expired' &&
        byText['no answer'] === 'expired' &&
        !('ancient' in byText) &&
        sessions[0]?.status === 'expired'
      );
    }, 15000);
    expect(
      await sql(`SELECT 1 FROM outbound_messages WHERE inbound_message_id = $1`, [ancient.id]),
    ).toHaveLength(0);
    expect(await sql(`SELECT type FROM channel_events`)).toEqual([{ type: 'left' }]);
    expect(await sql(`SELECT count(*)::int AS n FROM works_sends`)).toEqual([{ n: 1 }]);
    expect(await sql(`SELECT webhook_id FROM push_deliveries ORDER BY webhook_id`)).toEqual([
      { webhook_id: 'new-event' },
      { webhook_id: 'old-pending-event' },
    ]);
    expect(
      await sql(`SELECT 1 FROM sessions WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [
        old.sessionToken,
      ]),
    ).toHaveLength(0);
    expect(idle.accountId).toBeDefined();

    // Two instances ran the job on the same schedule: never twice in one tick.
    await waitUntil(async () => (await sql(`SELECT 1 FROM cleanup_runs`)).length >= 3, 10000);
    const runs = await sql<{ tick: string; n: number }>(
      `SELECT floor(extract(epoch FROM started_at))::text AS tick, count(*)::int AS n FROM cleanup_runs GROUP BY 1`,
    );
    expect(runs.every((r) => r.n === 1)).toBe(true);
    const instances = await sql<{ instance: string }>(`SELECT DISTINCT instance FROM cleanup_runs`);
    expect(instances.length).toBeGreaterThanOrEqual(1);

    // The overview shows the last run.
    const overview = await request(a.url)
      .get('/admin/api/overview')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    expect(overview.body.lastCleanup).toEqual({
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      results: expect.objectContaining({
        expiredQueued: expect.any(Number),
        deletedMessages: expect.any(Number),
      }),
    });
    stream.close();
  });

  it('the same tick taken by two instances at once runs once', async () => {
    const results = await Promise.all([a.app.get(CleanupService).tick(), b.app.get(CleanupService).tick()]);
    expect(results.filter((r) => r !== null).length).toBeLessThanOrEqual(1);
    // And a tick nobody has taken yet is run by exactly one of them.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const again = await Promise.all([a.app.get(CleanupService).tick(), b.app.get(CleanupService).tick()]);
    expect(again.filter((r) => r !== null).length).toBeLessThanOrEqual(1);
  });
});
