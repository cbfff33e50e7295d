import request from 'supertest';
import {
  createSession,
  FakeKakao,
  openStream,
  pairAgent,
  postReply,
  resetState,
  sendMessage,
  sendPair,
  SseClient,
  sql,
  textReply,
  userMessage,
  TEST_REDIS_PREFIX,
  expectErrorBody,
} from '@app/testing';
import { RunningRelay, startRelay, endRateLimitWindows } from './support/test-app';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('admin API (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  const admin = () => ({ Authorization: `Bearer ${ADMIN_TOKEN}` });
  const get = (path: string) => request(relay.url).get(path).set(admin());

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelay({
      ADMIN_TOKEN,
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      REPLY_COALESCE_MS: '0',
    });
  });
  afterAll(async () => {
    await relay.close();
    await kakao.close();
  });
  // The failed-login limit is per IP and every request here comes from 127.0.0.1.
  afterEach(() => endRateLimitWindows(relay, 'admin-auth-failures'));

  const ROUTES: Array<[string, string]> = [
    ['get', '/admin/api/overview'],
    ['get', '/admin/api/accounts'],
    ['get', `/admin/api/accounts/${NO_SUCH}`],
    ['get', `/admin/api/accounts/${NO_SUCH}/conversations`],
    ['get', `/admin/api/accounts/${NO_SUCH}/sessions`],
    ['get', `/admin/api/accounts/${NO_SUCH}/messages`],
    ['get', `/admin/api/accounts/${NO_SUCH}/outbound`],
    ['post', `/admin/api/accounts/${NO_SUCH}/relay-token`],
    ['delete', `/admin/api/accounts/${NO_SUCH}`],
    ['get', '/admin/api/sessions'],
    ['post', '/admin/api/sessions'],
    ['post', `/admin/api/sessions/${NO_SUCH}/disconnect`],
    ['delete', `/admin/api/sessions/${NO_SUCH}`],
    ['get', '/admin/api/conversations'],
    ['delete', `/admin/api/conversations/${NO_SUCH}`],
    ['get', '/admin/api/messages'],
    ['get', '/admin/api/outbound'],
    ['get', '/admin/api/failures'],
  ];

  it.each(ROUTES)(
    '%s %s answers 401 with the error body without the token and with a wrong one',
    async (method, path) => {
      const agent = request(relay.url) as unknown as Record<string, (p: string) => request.Test>;
      const missing = await agent[method](path);
      expectErrorBody(missing, 401, 'TOKEN_MISSING');
      const wrong = await agent[method](path).set('Authorization', 'Bearer wrong-token-wrong-token');
      expectErrorBody(wrong, 401, 'INVALID_ADMIN_TOKEN');
    },
  );

  it('walks the whole surface with a paired account', async () => {
    const agent = await pairAgent(relay.url, 'admin-user');
    const stream = await openStream(relay.url, agent.token);
    const callbackUrl = kakao.callbackUrl();
    await sendMessage(relay.url, userMessage('admin-user', '관리자 테스트', callbackUrl));
    const messageId = JSON.parse((await stream.waitFor('message')).data).id as string;
    await postReply(relay.url, agent.token, { messageId, response: textReply('ok') }).expect(200);

    // Each replica reports its stream count to Redis shortly after a stream opens or closes.
    let overview = (await get('/admin/api/overview').expect(200)).body;
    for (let i = 0; i < 100 && overview.streams.connected !== 1; i++) {
      await new Promise((r) => setTimeout(r, 20));
      overview = (await get('/admin/api/overview').expect(200)).body;
    }
    expect(overview).toEqual(
      expect.objectContaining({
        accounts: 1,
        sessions: { pending_pairing: 0, paired: 1, expired: 0, disconnected: 0 },
        conversations: { paired: 1, unpaired: 0 },
        inbound: expect.objectContaining({ total: 1, replied: 1 }),
        outbound: expect.objectContaining({ total: 1, sent: 1, failed: 0 }),
        streams: { connected: 1, replicas: 1 },
        lastCleanup: null,
      }),
    );

    const accounts = (await get('/admin/api/accounts').expect(200)).body;
    expect(accounts).toEqual({
      items: [expect.objectContaining({ id: agent.accountId, pairedConversations: 1, liveSessions: 1 })],
      nextCursor: null,
    });
    const detail = (await get(`/admin/api/accounts/${agent.accountId}`).expect(200)).body;
    expect(detail).toEqual(
      expect.objectContaining({ id: agent.accountId, inbound: { replied: 1 }, outbound: { sent: 1 } }),
    );
    const conversations = (await get(`/admin/api/accounts/${agent.accountId}/conversations`).expect(200))
      .body;
    expect(conversations.items).toEqual([expect.objectContaining({ userId: 'admin-user', state: 'paired' })]);
    const messages = (await get(`/admin/api/accounts/${agent.accountId}/messages?status=replied`).expect(200))
      .body;
    expect(messages.items).toEqual([
      expect.objectContaining({ id: messageId, text: '관리자 테스트', status: 'replied' }),
    ]);
    expect(
      (await get(`/admin/api/accounts/${agent.accountId}/messages?status=queued`).expect(200)).body.items,
    ).toEqual([]);
    const outbound = (await get(`/admin/api/accounts/${agent.accountId}/outbound`).expect(200)).body;
    expect(outbound.items).toEqual([
      expect.objectContaining({ messageId, status: 'sent', replies: 1, response: textReply('ok') }),
    ]);
    expect((await get('/admin/api/messages').expect(200)).body.items).toHaveLength(1);
    expect((await get('/admin/api/outbound?status=sent').expect(200)).body.items).toHaveLength(1);
    expect((await get('/admin/api/failures').expect(200)).body).toEqual({ items: [], nextCursor: null });
    const sessions = (await get(`/admin/api/accounts/${agent.accountId}/sessions`).expect(200)).body;
    expect(sessions.items).toEqual([expect.objectContaining({ status: 'paired', pairingCode: null })]);

    // A second Kakao user pairs to the same agent through an admin-created session.
    const created = (
      await request(relay.url)
        .post('/admin/api/sessions')
        .set(admin())
        .send({ accountId: agent.accountId })
        .expect(201)
    ).body;
    expect(created).toEqual(
      expect.objectContaining({
        accountId: agent.accountId,
        status: 'pending_pairing',
        sessionId: expect.any(String),
      }),
    );
    const listed = (await get('/admin/api/sessions?status=pending_pairing').expect(200)).body;
    expect(listed.items).toEqual([
      expect.objectContaining({ id: created.sessionId, pairingCode: created.pairingCode }),
    ]);
    expect(await sendPair(relay.url, created.pairingCode, 'second-user')).toContain('연결되었습니다');
    const after = (await get(`/admin/api/accounts/${agent.accountId}`).expect(200)).body;
    expect(after.pairedConversations).toBe(2);
    await sendMessage(relay.url, userMessage('second-user', 'from the second user', kakao.callbackUrl()));
    expect(JSON.parse((await stream.waitForCount('message', 2))[1].data).normalized.text).toBe(
      'from the second user',
    );

    // A relay token works for the stream; minting again revokes it and closes its stream.
    const minted = (
      await request(relay.url)
        .post(`/admin/api/accounts/${agent.accountId}/relay-token`)
        .set(admin())
        .expect(200)
    ).body;
    expect(minted.relayToken).toMatch(/^[0-9a-f]{64}$/);
    const tokenStream = await openStream(relay.url, minted.relayToken);
    await request(relay.url)
      .post(`/admin/api/accounts/${agent.accountId}/relay-token`)
      .set(admin())
      .expect(200);
    expect(JSON.parse((await tokenStream.waitFor('pairing_expired')).data)).toEqual({
      reason: 'disconnected',
    });
    expect((await SseClient.connect(relay.url, { token: minted.relayToken })).status).toBe(401);
    expect(stream.ended).toBe(false);

    // Disconnect the agent's session: its stream is told and closed, its token stops working.
    const sessionId = JSON.parse(stream.events[0].data).sessionId as string;
    const disconnected = await request(relay.url)
      .post(`/admin/api/sessions/${sessionId}/disconnect`)
      .set(admin())
      .expect(200);
    expect(disconnected.body).toEqual({ id: sessionId, status: 'disconnected' });
    expect(JSON.parse((await stream.waitFor('pairing_expired')).data)).toEqual({ reason: 'disconnected' });
    await stream.waitForEnd();
    expect((await SseClient.connect(relay.url, { token: agent.token })).status).toBe(401);
    await request(relay.url).delete(`/admin/api/sessions/${sessionId}`).set(admin()).expect(204);
    await request(relay.url).delete(`/admin/api/sessions/${sessionId}`).set(admin()).expect(404);

    // Delete a conversation, then the account (cascade).
    const conv = (await get('/admin/api/conversations?state=paired').expect(200)).body.items[0];
    await request(relay.url).delete(`/admin/api/conversations/${conv.id}`).set(admin()).expect(204);
    await request(relay.url).delete(`/admin/api/conversations/${conv.id}`).set(admin()).expect(404);
    await request(relay.url).delete(`/admin/api/accounts/${agent.accountId}`).set(admin()).expect(204);
    await get(`/admin/api/accounts/${agent.accountId}`).expect(404);
    for (const table of ['inbound_messages', 'outbound_messages', 'sessions']) {
      const rows = await sql(`SELECT 1 FROM ${table} WHERE account_id = $1`, [agent.accountId]);
      expect(rows).toHaveLength(0);
    }
    stream.close();
  });

  it.each([
    ['get', `/admin/api/accounts/${NO_SUCH}`, 'ACCOUNT_NOT_FOUND'],
    ['get', `/admin/api/accounts/${NO_SUCH}/conversations`, 'ACCOUNT_NOT_FOUND'],
    ['get', `/admin/api/accounts/${NO_SUCH}/sessions`, 'ACCOUNT_NOT_FOUND'],
    ['get', `/admin/api/accounts/${NO_SUCH}/messages`, 'ACCOUNT_NOT_FOUND'],
    ['get', `/admin/api/accounts/${NO_SUCH}/outbound`, 'ACCOUNT_NOT_FOUND'],
    ['post', `/admin/api/accounts/${NO_SUCH}/relay-token`, 'ACCOUNT_NOT_FOUND'],
    ['delete', `/admin/api/accounts/${NO_SUCH}`, 'ACCOUNT_NOT_FOUND'],
    ['post', `/admin/api/sessions/${NO_SUCH}/disconnect`, 'SESSION_NOT_FOUND'],
    ['delete', `/admin/api/sessions/${NO_SUCH}`, 'SESSION_NOT_FOUND'],
    ['delete', `/admin/api/conversations/${NO_SUCH}`, 'CONVERSATION_NOT_FOUND'],
  ])('%s %s answers 404 %s', async (method, path, code) => {
    const agent = request(relay.url) as unknown as Record<string, (p: string) => request.Test>;
    const res = await agent[method](path).set(admin());
    expectErrorBody(res, 404, code);
  });

  it('creating a session for an unknown account is 404', async () => {
    const res = await request(relay.url)
      .post('/admin/api/sessions')
      .set(admin())
      .send({ accountId: NO_SUCH });
    expectErrorBody(res, 404, 'ACCOUNT_NOT_FOUND');
  });

  it.each([
    '/admin/api/accounts/not-a-uuid',
    '/admin/api/accounts?limit=0',
    '/admin/api/accounts?limit=101',
    '/admin/api/accounts?limit=abc',
    '/admin/api/accounts?cursor=!!!',
    '/admin/api/accounts?cursor=bm9wZQ',
    '/admin/api/sessions?status=nope',
    '/admin/api/messages?accountId=123',
    '/admin/api/accounts?unknown=1',
  ])('answers %s with 400', async (path) => {
    const res = await get(path);
    expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'allowed' });
  });

  it('paginates with limit and cursor', async () => {
    for (let i = 0; i < 5; i++) await createSession(relay.url);
    const first = (await get('/admin/api/sessions?limit=2').expect(200)).body;
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await get(`/admin/api/sessions?limit=2&cursor=${first.nextCursor}`).expect(200)).body;
    expect(second.items).toHaveLength(2);
    const ids = new Set([...first.items, ...second.items].map((s: { id: string }) => s.id));
    expect(ids.size).toBe(4);
  });

  it('rate-limits failed admin logins per IP, never the correct token', async () => {
    const limited = await startRelay({ ADMIN_TOKEN, REDIS_PREFIX: `${TEST_REDIS_PREFIX}-adminrl` });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push(
          (await request(limited.url).get('/admin/api/overview').set('Authorization', 'Bearer nope-nope'))
            .status,
        );
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses[11]).toBe(429);
      // A slow-down for guesses, not a lock-out: the operator's token still works from this address.
      await request(limited.url).get('/admin/api/overview').set(admin()).expect(200);
    } finally {
      await endRateLimitWindows(limited, 'admin-auth-failures');
      await limited.close();
    }
  });
});

describe('metrics (e2e)', () => {
  it('move with webhooks and replies, and need the admin token unless public', async () => {
    await resetState();
    const kakao = await FakeKakao.start();
    const relay = await startRelay({
      ADMIN_TOKEN,
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      REPLY_COALESCE_MS: '0',
    });
    try {
      const scrape = async () =>
        (await request(relay.url).get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200))
          .text;
      const value = (text: string, line: string) => {
        const found = text.split('\n').find((l) => l.startsWith(`${line} `));
        return found ? Number(found.split(' ').pop()) : 0;
      };
      await request(relay.url).get('/metrics').expect(401);
      const before = await scrape();
      const agent = await pairAgent(relay.url, 'metrics-user');
      const stream = await openStream(relay.url, agent.token);
      await sendMessage(relay.url, userMessage('metrics-user', 'count me', kakao.callbackUrl()));
      const messageId = JSON.parse((await stream.waitFor('message')).data).id as string;
      await postReply(relay.url, agent.token, { messageId, response: textReply('counted') }).expect(200);
      const after = await scrape();
      expect(value(after, 'relay_webhook_requests_total{result="stored"}')).toBe(
        value(before, 'relay_webhook_requests_total{result="stored"}') + 1,
      );
      expect(value(after, 'relay_webhook_requests_total{result="command"}')).toBeGreaterThan(
        value(before, 'relay_webhook_requests_total{result="command"}'),
      );
      expect(value(after, 'relay_messages_stored_total')).toBe(
        value(before, 'relay_messages_stored_total') + 1,
      );
      expect(value(after, 'relay_messages_delivered_total')).toBeGreaterThanOrEqual(1);
      expect(value(after, 'relay_replies_accepted_total')).toBe(1);
      expect(value(after, 'relay_messages_replied_total')).toBe(1);
      expect(value(after, 'relay_callback_sends_total{outcome="sent",mode="callback"}')).toBe(1);
      expect(value(after, 'relay_open_streams')).toBe(1);
      expect(after).toContain('relay_webhook_duration_seconds_bucket');
      expect(after).toContain('relay_queue_jobs{queue="callback-send",state="waiting"}');
      stream.close();
    } finally {
      await relay.close();
      await kakao.close();
    }
    const open = await startRelay({ METRICS_PUBLIC: 'true', ADMIN_TOKEN });
    try {
      const res = await request(open.url).get('/metrics').expect(200);
      expect(res.headers['content-type']).toContain('text/plain');
    } finally {
      await open.close();
    }
  });
});
