import { createHmac } from 'node:crypto';
import request from 'supertest';
import { BotBindingStore, KO, WorksBotRegistry } from '@app/core';
import {
  createSession,
  expectErrorBody,
  FakeWorks,
  kakaoPayload,
  openStream,
  resetState,
  sql,
  SseClient,
  textOf,
  uniqueCallbackUrl,
  waitUntil,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const SECRETS_KEY = 'ef'.repeat(32);
const WORKS_BOT = '4000001';
const WORKS_SECRET = 'works-bot-secret-for-bindings';
const NO_SUCH = '00000000-0000-4000-8000-000000000000';

/** Bot bindings (server-mode.md §3): admin CRUD, the three policies on Kakao and Works, changes on every replica. */
describe('bot binding (e2e, server-mode.md §3)', () => {
  let fake: FakeWorks;
  let relay: RunningRelay;
  let replica: RunningRelay;
  const streams: SseClient[] = [];

  const admin = () => ({ Authorization: `Bearer ${ADMIN_TOKEN}` });
  const bindingPath = (channel: string, botId: string) => `/admin/api/bots/${channel}/${botId}/binding`;
  const put = (channel: string, botId: string, body: unknown, on: RunningRelay = relay) =>
    request(on.url)
      .put(bindingPath(channel, botId))
      .set(admin())
      .send(body as object);

  const kakao = (botId: string, userKey: string, utterance: string, on: RunningRelay = relay) =>
    request(on.url)
      .post('/kakao/webhook')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(kakaoPayload({ botId, userKey, utterance, callbackUrl: uniqueCallbackUrl() })));
  const kakaoText = async (botId: string, userKey: string, utterance: string, on?: RunningRelay) =>
    textOf((await kakao(botId, userKey, utterance, on)).body);

  const count = async (text: string, params: unknown[]) => (await sql<{ n: number }>(text, params))[0].n;
  const storedFor = (conversationKey: string) =>
    count('SELECT count(*)::int AS n FROM inbound_messages WHERE conversation_key = $1', [conversationKey]);
  const conversation = async (conversationKey: string) =>
    (
      await sql<{ account_id: string; state: string }>(
        'SELECT account_id, state FROM conversations WHERE conversation_key = $1',
        [conversationKey],
      )
    )[0] ?? null;

  /** A new account, and an SSE stream on it through an account relay token minted by the admin API. */
  async function account(): Promise<{ id: string; stream: SseClient }> {
    const [{ id }] = await sql<{ id: string }>('INSERT INTO accounts DEFAULT VALUES RETURNING id');
    const minted = await request(relay.url)
      .post(`/admin/api/accounts/${id}/relay-token`)
      .set(admin())
      .expect(200);
    const stream = await openStream(relay.url, minted.body.relayToken as string);
    streams.push(stream);
    return { id, stream };
  }

  const messagesOn = (stream: SseClient) =>
    stream.events
      .filter((e) => e.event === 'message')
      .map((e) => JSON.parse(e.data) as { conversationKey: string; normalized: { text: string } });

  const works = (userId: string, text: string) => {
    const raw = JSON.stringify({
      type: 'message',
      source: { userId, domainId: 1 },
      issuedTime: new Date().toISOString(),
      content: { type: 'text', text },
    });
    return request(relay.url)
      .post('/works/callback')
      .set('Content-Type', 'application/json')
      .set('X-WORKS-BotId', WORKS_BOT)
      .set('X-WORKS-Signature', createHmac('sha256', WORKS_SECRET).update(raw).digest('base64'))
      .send(raw);
  };
  const worksTextsTo = (userId: string) =>
    fake.sends.filter((s) => s.targetId === userId && s.status === 201).map((s) => s.content.text);

  beforeAll(async () => {
    await resetState();
    fake = await FakeWorks.start();
    const env = {
      ADMIN_TOKEN,
      WORKS_API_BASE_URL: fake.apiBaseUrl,
      WORKS_AUTH_URL: fake.authUrl,
      RELAY_SECRETS_KEY: SECRETS_KEY,
    };
    relay = await startRelay(env);
    replica = await startRelay({ ...env, WORKER_IN_PROCESS: 'false' });
    await fake.registerBot(relay.app.get(WorksBotRegistry), {
      botId: WORKS_BOT,
      botSecret: WORKS_SECRET,
      clientId: 'client-bindings',
    });
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await replica?.close();
    await relay?.close();
    await fake?.close();
  });

  describe('admin API', () => {
    it('creates, reads, lists, replaces and deletes a binding', async () => {
      const { id } = await account();
      const created = await put('kakao', 'bot-crud', { accountId: id, policy: 'open' }).expect(200);
      expect(created.body).toEqual({
        id: expect.any(String),
        channel: 'kakao',
        botId: 'bot-crud',
        accountId: id,
        policy: 'open',
        allowlist: [],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const replaced = await put('kakao', 'bot-crud', {
        accountId: id,
        policy: 'allowlist',
        allowlist: ['u1', 'u2', 'u1'],
      }).expect(200);
      expect(replaced.body).toMatchObject({
        id: created.body.id,
        policy: 'allowlist',
        allowlist: ['u1', 'u2'],
      });
      const got = await request(relay.url).get(bindingPath('kakao', 'bot-crud')).set(admin()).expect(200);
      expect(got.body).toEqual(replaced.body);
      const list = await request(relay.url).get('/admin/api/bots/bindings?limit=10').set(admin()).expect(200);
      expect(list.body.items).toContainEqual(
        expect.objectContaining({ botId: 'bot-crud', channel: 'kakao', allowlistCount: 2, accountId: id }),
      );
      expect(list.body.items[0]).not.toHaveProperty('allowlist');
      await request(relay.url).delete(bindingPath('kakao', 'bot-crud')).set(admin()).expect(204);
      expectErrorBody(
        await request(relay.url).get(bindingPath('kakao', 'bot-crud')).set(admin()),
        404,
        'BOT_BINDING_NOT_FOUND',
      );
      expectErrorBody(
        await request(relay.url).delete(bindingPath('kakao', 'bot-crud')).set(admin()),
        404,
        'BOT_BINDING_NOT_FOUND',
      );
    });

    it('pages the list with the admin cursor', async () => {
      const { id } = await account();
      for (const bot of ['page-1', 'page-2', 'page-3']) {
        await put('works', bot, { accountId: id, policy: 'open' }).expect(200);
      }
      const first = await request(relay.url).get('/admin/api/bots/bindings?limit=2').set(admin()).expect(200);
      expect(first.body.items).toHaveLength(2);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await request(relay.url)
        .get(`/admin/api/bots/bindings?limit=2&cursor=${first.body.nextCursor as string}`)
        .set(admin())
        .expect(200);
      const seen = [...first.body.items, ...second.body.items].map((b: { botId: string }) => b.botId);
      expect(seen).toEqual(expect.arrayContaining(['page-1', 'page-2', 'page-3']));
      for (const bot of ['page-1', 'page-2', 'page-3']) {
        await request(relay.url).delete(bindingPath('works', bot)).set(admin()).expect(204);
      }
    });

    it('answers 404 for an unknown account and 400 naming the problem otherwise, storing nothing', async () => {
      const { id } = await account();
      expectErrorBody(
        await put('kakao', 'bot-bad', { accountId: NO_SUCH, policy: 'open' }),
        404,
        'ACCOUNT_NOT_FOUND',
      );
      const bad: Array<[string, unknown, string]> = [
        ['kakao', { accountId: 'nope', policy: 'open' }, 'accountId'],
        ['kakao', { accountId: id, policy: 'closed' }, 'policy'],
        ['kakao', { accountId: id }, 'policy'],
        ['kakao', { accountId: id, policy: 'allowlist' }, 'allowlist'],
        ['kakao', { accountId: id, policy: 'allowlist', allowlist: [] }, 'allowlist'],
        ['kakao', { accountId: id, policy: 'allowlist', allowlist: [''] }, 'allowlist'],
        ['kakao', { accountId: id, policy: 'allowlist', allowlist: [7] }, 'allowlist'],
        ['kakao', { accountId: id, policy: 'allowlist', allowlist: ['x'.repeat(257)] }, 'allowlist'],
        ['kakao', { accountId: id, policy: 'allowlist', allowlist: 'u1' }, 'allowlist'],
        [
          'kakao',
          {
            accountId: id,
            policy: 'allowlist',
            allowlist: Array.from({ length: 10_001 }, (_, i) => `u${i}`),
          },
          'allowlist',
        ],
        ['kakao', { accountId: id, policy: 'open', allowlist: ['u1'] }, 'allowlist'],
        ['kakao', { accountId: id, policy: 'open', extra: true }, 'extra'],
        ['line', { accountId: id, policy: 'open' }, 'channel'],
      ];
      for (const [channel, body, field] of bad) {
        const res = await put(channel, 'bot-bad', body);
        expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'required' });
        expect(JSON.stringify(res.body.details)).toContain(field);
      }
      expectErrorBody(
        await put('kakao', 'x'.repeat(257), { accountId: id, policy: 'open' }),
        400,
        'VALIDATION_ERROR',
        { details: 'required' },
      );
      expectErrorBody(
        await request(relay.url).get(bindingPath('works', 'bot-bad')).set(admin()),
        404,
        'BOT_BINDING_NOT_FOUND',
      );
      expectErrorBody(
        await request(relay.url).get(bindingPath('line', 'bot-bad')).set(admin()),
        400,
        'VALIDATION_ERROR',
        { details: 'required' },
      );
      expect(await count('SELECT count(*)::int AS n FROM bot_bindings WHERE bot_id = $1', ['bot-bad'])).toBe(
        0,
      );
      // Only with the admin token.
      expectErrorBody(
        await request(relay.url).put(bindingPath('kakao', 'bot-bad')).send({ accountId: id, policy: 'open' }),
        401,
        'TOKEN_MISSING',
      );
      // 10,000 ids of 256 characters are accepted.
      const big = Array.from({ length: 10_000 }, (_, i) => `${i}`.padStart(256, 'u'));
      const res = await put('kakao', 'bot-big', {
        accountId: id,
        policy: 'allowlist',
        allowlist: big,
      }).expect(200);
      expect(res.body.allowlist).toHaveLength(10_000);
      await request(relay.url).delete(bindingPath('kakao', 'bot-big')).set(admin()).expect(204);
    });

    it('deleting the account deletes its bindings', async () => {
      const { id } = await account();
      await put('kakao', 'bot-gone', { accountId: id, policy: 'open' }).expect(200);
      await request(relay.url).delete(`/admin/api/accounts/${id}`).set(admin()).expect(204);
      expectErrorBody(
        await request(relay.url).get(bindingPath('kakao', 'bot-gone')).set(admin()),
        404,
        'BOT_BINDING_NOT_FOUND',
      );
      // Every replica forgot it: the bot pairs again.
      await waitUntil(async () => (await kakaoText('bot-gone', 'g1', 'hi', replica)) === KO.notPaired, 3000);
      expect(await kakaoText('bot-gone', 'g1', 'hi')).toBe(KO.notPaired);
    });
  });

  it('the store (BotBindingStore on PostgreSQL): created or replaced, unknown account, fingerprint, findForBot', async () => {
    const store = relay.app.get(BotBindingStore);
    const { id } = await account();
    const input = {
      channel: 'works' as const,
      botId: 'store-bot',
      accountId: id,
      policy: 'open' as const,
      allowlist: [],
    };
    const before = await store.fingerprint();
    expect(await store.upsert(input)).toMatchObject({
      created: true,
      binding: { botId: 'store-bot', policy: 'open' },
    });
    const afterCreate = await store.fingerprint();
    expect(afterCreate).not.toBe(before);
    expect(await store.upsert({ ...input, policy: 'allowlist', allowlist: ['x'] })).toMatchObject({
      created: false,
      binding: { policy: 'allowlist', allowlist: ['x'] },
    });
    expect(await store.fingerprint()).not.toBe(afterCreate);
    expect(await store.upsert({ ...input, accountId: NO_SUCH })).toBeNull();
    expect(await store.upsert({ ...input, accountId: 'not-a-uuid' })).toBeNull();
    expect(await store.findForBot('works', 'store-bot')).toMatchObject({ accountId: id, allowlist: ['x'] });
    expect(await store.findForBot('kakao', 'store-bot')).toBeNull();
    expect(await store.delete('works', 'store-bot')).toBe(true);
    expect(await store.delete('works', 'store-bot')).toBe(false);
  });

  describe('Kakao', () => {
    it("pairing (no binding, or the pairing policy): today's behaviour", async () => {
      expect(await kakaoText('bot-plain', 'p1', 'hello')).toBe(KO.notPaired);
      const { id } = await account();
      await put('kakao', 'bot-plain', { accountId: id, policy: 'pairing' }).expect(200);
      expect(await kakaoText('bot-plain', 'p1', 'hello')).toBe(KO.notPaired);
      const session = await createSession(relay.url);
      expect(await kakaoText('bot-plain', 'p1', `/pair ${session.pairingCode}`)).toBe(KO.pairSuccess);
      expect(await storedFor('bot-plain:p1')).toBe(0);
      expect((await conversation('bot-plain:p1'))?.account_id).not.toBe(id);
    });

    it('open: every user reaches the bound account without /pair; the conversation appears on the first message', async () => {
      const { id, stream } = await account();
      await put('kakao', 'bot-open', { accountId: id, policy: 'open' }).expect(200);
      expect(await conversation('bot-open:o1')).toBeNull();
      const res = await kakao('bot-open', 'o1', '안녕하세요');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ version: '2.0', useCallback: true });
      const event = await stream.waitFor('message');
      expect(JSON.parse(event.data)).toMatchObject({
        conversationKey: 'bot-open:o1',
        channel: 'kakao',
        normalized: { userId: 'o1', text: '안녕하세요', channelId: 'bot-open' },
      });
      expect(await conversation('bot-open:o1')).toEqual({ account_id: id, state: 'paired' });
      // Later messages take the ordinary path; sequence numbers go on.
      await kakao('bot-open', 'o1', 'second').expect(200);
      await kakao('bot-open', 'o2', 'another user').expect(200);
      await stream.waitForCount('message', 3);
      expect(stream.events.filter((e) => e.event === 'message').map((e) => Number(e.id))).toEqual([1, 2, 3]);
      expect(await count('SELECT count(*)::int AS n FROM conversations WHERE account_id = $1', [id])).toBe(2);
    });

    it('open: /pair and /unpair answer that the bot is bound; /status and /help work', async () => {
      const { id } = await account();
      await put('kakao', 'bot-cmd', { accountId: id, policy: 'open' }).expect(200);
      expect(await kakaoText('bot-cmd', 'c1', '/status')).toBe(KO.statusBound);
      expect(await kakaoText('bot-cmd', 'c1', '/help')).toBe(KO.help);
      const session = await createSession(relay.url);
      expect(await kakaoText('bot-cmd', 'c1', `/pair ${session.pairingCode}`)).toBe(KO.botBoundPair);
      const status = await request(relay.url).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
      expect(status.body.status).toBe('pending_pairing');
      await kakao('bot-cmd', 'c1', 'hello').expect(200);
      expect(await kakaoText('bot-cmd', 'c1', '/unpair')).toBe(KO.botBoundUnpair);
      expect(await conversation('bot-cmd:c1')).toEqual({ account_id: id, state: 'paired' });
      expect(await kakaoText('bot-cmd', 'c1', '/status')).toContain('에이전트와 연결되어 있습니다');
    });

    it('open: simultaneous first messages of one user make one conversation and store every message', async () => {
      const { id, stream } = await account();
      await put('kakao', 'bot-race', { accountId: id, policy: 'open' }).expect(200);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => kakao('bot-race', 'r1', `m${i}`)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(await storedFor('bot-race:r1')).toBe(8);
      expect(
        await count('SELECT count(*)::int AS n FROM conversations WHERE conversation_key = $1', [
          'bot-race:r1',
        ]),
      ).toBe(1);
      await stream.waitForCount('message', 8);
    });

    it('the binding wins over a conversation /pair had paired to another account', async () => {
      const session = await createSession(relay.url);
      expect(await kakaoText('bot-win', 'w1', `/pair ${session.pairingCode}`)).toBe(KO.pairSuccess);
      const before = await conversation('bot-win:w1');
      const { id, stream } = await account();
      expect(before?.account_id).not.toBe(id);
      await put('kakao', 'bot-win', { accountId: id, policy: 'open' }).expect(200);
      await kakao('bot-win', 'w1', 'now to the bound agent').expect(200);
      expect(messagesOn(await stream.waitFor('message').then(() => stream))).toEqual([
        expect.objectContaining({ conversationKey: 'bot-win:w1' }),
      ]);
      expect(await conversation('bot-win:w1')).toEqual({ account_id: id, state: 'paired' });
      expect(
        await count('SELECT count(*)::int AS n FROM inbound_messages WHERE account_id = $1', [
          before?.account_id,
        ]),
      ).toBe(0);
    });

    it('allowlist: listed users reach the account, others are refused politely and nothing is stored', async () => {
      const { id, stream } = await account();
      await put('kakao', 'bot-list', { accountId: id, policy: 'allowlist', allowlist: ['in1'] }).expect(200);
      await kakao('bot-list', 'in1', 'let me in').expect(200, { version: '2.0', useCallback: true });
      await stream.waitFor('message');
      expect(await kakaoText('bot-list', 'out1', 'me too')).toBe(KO.botNotAllowed);
      expect(await kakaoText('bot-list', 'out1', '/status')).toBe(KO.botNotAllowed);
      expect(await kakaoText('bot-list', 'out1', '/help')).toBe(KO.help);
      expect(await conversation('bot-list:out1')).toBeNull();
      expect(await storedFor('bot-list:out1')).toBe(0);
      expect(await storedFor('bot-list:in1')).toBe(1);
    });

    it('a change takes effect at once here and within moments on another replica; deleting restores pairing', async () => {
      const { id, stream } = await account();
      await put('kakao', 'bot-change', { accountId: id, policy: 'allowlist', allowlist: ['a1'] }).expect(200);
      await waitUntil(
        async () => (await kakaoText('bot-change', 'b1', 'hi', replica)) === KO.botNotAllowed,
        3000,
      );
      // Changed on the replica: this relay follows (Pub/Sub), well within two seconds.
      await put('kakao', 'bot-change', { accountId: id, policy: 'open' }, replica).expect(200);
      const changedAt = Date.now();
      await waitUntil(
        async () => (await kakao('bot-change', 'b2', 'probe')).body.useCallback === true,
        2000,
        20,
      );
      expect(Date.now() - changedAt).toBeLessThan(2000);
      await stream.waitFor('message');
      // Deleted: new users pair with a code again (on both replicas); conversations it paired stay paired.
      await request(relay.url).delete(bindingPath('kakao', 'bot-change')).set(admin()).expect(204);
      expect(await kakaoText('bot-change', 'b3', 'hello')).toBe(KO.notPaired);
      await waitUntil(
        async () => (await kakaoText('bot-change', 'b3', 'hello', replica)) === KO.notPaired,
        2000,
      );
      const session = await createSession(relay.url);
      expect(await kakaoText('bot-change', 'b3', `/pair ${session.pairingCode}`)).toBe(KO.pairSuccess);
      expect(await conversation('bot-change:b2')).toEqual({ account_id: id, state: 'paired' });
    });
  });

  describe('Works', () => {
    it('open: a user reaches the bound account without /pair; /unpair answers that the bot is bound', async () => {
      const { id, stream } = await account();
      await put('works', WORKS_BOT, { accountId: id, policy: 'open' }).expect(200);
      await works('wu1', 'hello works').expect(200, {});
      const event = JSON.parse((await stream.waitFor('message')).data);
      expect(event).toMatchObject({ conversationKey: `works:${WORKS_BOT}:wu1`, channel: 'works' });
      expect(await conversation(`works:${WORKS_BOT}:wu1`)).toEqual({ account_id: id, state: 'paired' });
      await works('wu1', '/unpair').expect(200, {});
      await waitUntil(() => worksTextsTo('wu1').includes(KO.botBoundUnpair));
    });

    it('allowlist: an unlisted user is refused through the send API, nothing stored', async () => {
      const { id } = await account();
      await put('works', WORKS_BOT, { accountId: id, policy: 'allowlist', allowlist: ['wlisted'] }).expect(
        200,
      );
      await works('wstranger', 'hi').expect(200, {});
      await waitUntil(() => worksTextsTo('wstranger').includes(KO.botNotAllowed));
      expect(await conversation(`works:${WORKS_BOT}:wstranger`)).toBeNull();
      expect(await storedFor(`works:${WORKS_BOT}:wstranger`)).toBe(0);
      await works('wlisted', 'hi').expect(200, {});
      expect(await storedFor(`works:${WORKS_BOT}:wlisted`)).toBe(1);
      await request(relay.url).delete(bindingPath('works', WORKS_BOT)).set(admin()).expect(204);
      await works('wnew', 'hi').expect(200, {});
      await waitUntil(() => worksTextsTo('wnew').includes(KO.notPaired));
    });
  });
});
