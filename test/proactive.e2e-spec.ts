import request from 'supertest';
import {
  normalizePairingCode,
  WorksBotRegistry,
  type SkillResponse,
  type WorksTarget,
  worksConversationKey,
} from '@app/core';
import { PairingService } from '@app/pairing';
import {
  createSession,
  expectErrorBody,
  FakeKakao,
  FakeWorks,
  kakaoPayload,
  openStream,
  pairAgent,
  postReply,
  postWebhook,
  resetState,
  sendMessage,
  SseClient,
  TEST_ADMIN_TOKEN,
  textReply,
  userMessage,
  waitUntil,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

/**
 * Proactive messages (server-mode §5) and the status of an answer (§4): `POST /v1/messages` to a Kakao
 * conversation (Event API when the bot has it, else held for the next answer) and to a Naver Works conversation
 * (the send API at once), against local fakes; `GET /v1/messages/{id}`.
 */
const ENV = {
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
  REPLY_COALESCE_MS: '100',
  RELAY_SECRETS_KEY: 'ab'.repeat(32),
  RATE_LIMIT_MESSAGES_PER_MINUTE: '5',
};

const postMessage = (base: string, token: string, body: unknown) =>
  request(base)
    .post('/v1/messages')
    .set('Authorization', `Bearer ${token}`)
    .send(body as object);
const getMessage = (base: string, token: string, id: string) =>
  request(base).get(`/v1/messages/${id}`).set('Authorization', `Bearer ${token}`);

describe('proactive messages and answer status (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  let eventApi: FakeKakao;
  let works: FakeWorks;
  let worksBotId: string;
  const streams: SseClient[] = [];
  const eventBotId = 'proactive-event-bot';

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    eventApi = await FakeKakao.start();
    works = await FakeWorks.start();
    relay = await startRelay({
      ...ENV,
      KAKAO_EVENT_API_BASE_URL: eventApi.url,
      WORKS_API_BASE_URL: works.apiBaseUrl,
      WORKS_AUTH_URL: works.authUrl,
    });
    await request(relay.url)
      .put(`/admin/api/kakao/bots/${eventBotId}`)
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .send({ restApiKey: 'proactive-key', eventName: 'relay_proactive' })
      .expect(201);
    worksBotId = `${4_000_000 + Math.floor(Math.random() * 1_000_000)}`;
    await works.registerBot(relay.app.get(WorksBotRegistry), {
      botId: worksBotId,
      botSecret: 'bot-secret',
      clientId: `proactive-client-${Date.now()}`,
    });
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await relay?.close();
    await kakao?.close();
    await eventApi?.close();
    await works?.close();
  });

  /** A paired Kakao user of `botId` who wrote once (so the relay knows their bot user key). */
  async function kakaoUser(userKey: string, botId?: string) {
    const agent = await pairAgent(relay.url, userKey);
    const stream = await openStream(relay.url, agent.token);
    streams.push(stream);
    const payload = kakaoPayload({ utterance: '안녕', userKey, callbackUrl: kakao.callbackUrl(), botId });
    if (botId) {
      // Pair on this bot too: the conversation key names the bot.
      const session = await createSession(relay.url);
      await sendMessage(
        relay.url,
        kakaoPayload({
          utterance: `/pair ${session.pairingCode}`,
          userKey,
          botId,
          callbackUrl: kakao.callbackUrl(),
        }),
      );
      const token = session.sessionToken;
      const botStream = await openStream(relay.url, token);
      streams.push(botStream);
      await sendMessage(relay.url, payload);
      const event = JSON.parse((await botStream.waitFor('message')).data) as { conversationKey: string };
      return { agent: { ...agent, token }, stream: botStream, conversationKey: event.conversationKey };
    }
    await sendMessage(relay.url, payload);
    const event = JSON.parse((await stream.waitFor('message')).data) as { conversationKey: string };
    return { agent, stream, conversationKey: event.conversationKey };
  }

  it('Kakao without the Event API: 202 queued, then held, then sent with the next answer', async () => {
    const { agent, stream, conversationKey } = await kakaoUser('proactive-kakao-1');
    const res = await postMessage(relay.url, agent.token, {
      conversationKey,
      text: '먼저 드리는 말씀',
    }).expect(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
    const id = res.body.id as string;
    expect((await getMessage(relay.url, agent.token, id).expect(200)).body).toEqual({ id, status: 'held' });

    const next = kakao.callbackUrl();
    await sendMessage(relay.url, userMessage('proactive-kakao-1', '질문', next));
    const events = await stream.waitForCount('message', 2);
    const m2 = JSON.parse(events[1].data) as { id: string };
    const reply = await postReply(relay.url, agent.token, {
      messageId: m2.id,
      response: textReply('답'),
    }).expect(200);
    const [received] = await kakao.waitForRequests(next, 1);
    expect(received.body).toEqual(textReply('먼저 드리는 말씀\n\n답'));
    await waitUntil(async () => (await getMessage(relay.url, agent.token, id)).body.status === 'sent');
    await waitUntil(
      async () => (await getMessage(relay.url, agent.token, reply.body.replyId)).body.status === 'sent',
    );
  });

  it('Kakao with the Event API: the event is asked for and the event block gets the message', async () => {
    const { agent, conversationKey } = await kakaoUser('proactive-kakao-2', eventBotId);
    const response: SkillResponse = {
      version: '2.0',
      template: { outputs: [{ simpleText: { text: '이벤트 메시지' } }] },
    };
    const res = await postMessage(relay.url, agent.token, { conversationKey, response }).expect(202);
    const id = res.body.id as string;
    const path = `/v2/bots/${eventBotId}/talk`;
    await waitUntil(() => eventApi.received.some((r) => r.path === path));
    const call = eventApi.received.find((r) => r.path === path)!;
    expect(call.headers.authorization).toBe('KakaoAK proactive-key');
    expect(call.body).toEqual({
      event: { name: 'relay_proactive', data: { heldId: id } },
      user: [{ type: 'botUserKey', id: kakaoPayload().userRequest.user.id }],
    });
    expect((await getMessage(relay.url, agent.token, id)).body.status).toBe('held');
    const block = kakaoPayload({
      utterance: '',
      userKey: 'proactive-kakao-2',
      botId: eventBotId,
      callbackUrl: null,
    });
    (block.userRequest as Record<string, unknown>).event = { name: 'relay_proactive', data: { heldId: id } };
    const answer = await postWebhook(relay.url, block);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(response);
    expect((await getMessage(relay.url, agent.token, id).expect(200)).body).toEqual({ id, status: 'sent' });
  });

  it('Naver Works: sent through the send API at once', async () => {
    const session = await createSession(relay.url);
    const target: WorksTarget = { botId: worksBotId, kind: 'user', id: `works-user-${Date.now()}` };
    const conversationKey = worksConversationKey(target);
    const outcome = await relay.app
      .get(PairingService)
      .pair(normalizePairingCode(session.pairingCode) ?? '', {
        channelId: worksBotId,
        userId: target.id,
        conversationKey,
      });
    if (!outcome.ok) throw new Error('pairing failed');
    const token = session.sessionToken;
    const res = await postMessage(relay.url, token, { conversationKey, text: 'Works 로 먼저' }).expect(202);
    const id = res.body.id as string;
    await waitUntil(() => works.sends.some((s) => s.targetId === target.id));
    const sent = works.sends.find((s) => s.targetId === target.id)!;
    expect(sent.content).toMatchObject({ type: 'text', text: 'Works 로 먼저' });
    await waitUntil(async () => (await getMessage(relay.url, token, id)).body.status === 'sent');
    // `{"works": …}` as is.
    await postMessage(relay.url, token, {
      conversationKey,
      response: { works: { type: 'text', text: 'raw' } },
    }).expect(202);
  });

  it('a bot bound to the agent (server-mode §3): any user it lets through, even one who never wrote; the key pair as credential', async () => {
    const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const agent = await pairAgent(relay.url, 'proactive-binding-owner');
    const key = (
      await request(relay.url).post(`/admin/api/accounts/${agent.accountId}/api-keys`).set(admin).expect(201)
    ).body as { apiKey: string; secretKey: string };
    const byKey = (body: object) =>
      request(relay.url)
        .post('/v1/messages')
        .set('x-api-key', key.apiKey)
        .set('x-secret-key', key.secretKey)
        .send(body);
    const stranger = worksConversationKey({
      botId: worksBotId,
      kind: 'user',
      id: `never-wrote-${Date.now()}`,
    });
    const room = worksConversationKey({ botId: worksBotId, kind: 'channel', id: `room-${Date.now()}` });
    // (RATE_LIMIT_MESSAGES_PER_MINUTE is 5 here: five sends of this account below.)
    await request(relay.url)
      .put(`/admin/api/bots/works/${worksBotId}/binding`)
      .set(admin)
      .send({ accountId: agent.accountId, policy: 'open' })
      .expect(200);
    await byKey({ conversationKey: stranger, text: '처음 뵙겠습니다' }).expect(202);
    await byKey({ conversationKey: room, text: '방 공지' }).expect(202);
    await waitUntil(() =>
      works.sends.some((s) => s.content && (s.content as { text?: string }).text === '방 공지'),
    );
    expect(works.sends.some((s) => (s.content as { text?: string }).text === '처음 뵙겠습니다')).toBe(true);
    // Another account's credential does not reach a bot bound to this one.
    const other = await pairAgent(relay.url, 'proactive-binding-other');
    expectErrorBody(
      await postMessage(relay.url, other.token, { conversationKey: stranger, text: 'x' }),
      404,
      'CONVERSATION_NOT_FOUND',
    );

    // An allow-list lets only its users through, and no room.
    const listed = `listed-${Date.now()}`;
    await request(relay.url)
      .put(`/admin/api/bots/works/${worksBotId}/binding`)
      .set(admin)
      .send({ accountId: agent.accountId, policy: 'allowlist', allowlist: [listed] })
      .expect(200);
    await byKey({
      conversationKey: worksConversationKey({ botId: worksBotId, kind: 'user', id: listed }),
      text: 'ok',
    }).expect(202);
    expectErrorBody(await byKey({ conversationKey: stranger, text: 'x' }), 404, 'CONVERSATION_NOT_FOUND');
    expectErrorBody(await byKey({ conversationKey: room, text: 'x' }), 404, 'CONVERSATION_NOT_FOUND');
    await request(relay.url).delete(`/admin/api/bots/works/${worksBotId}/binding`).set(admin).expect(204);
  });

  it('404 for a conversation of another agent or none; 400 for bad bodies; 401 before pairing', async () => {
    const mine = await kakaoUser('proactive-owner');
    const other = await kakaoUser('proactive-other');
    expectErrorBody(
      await postMessage(relay.url, other.agent.token, { conversationKey: mine.conversationKey, text: 'x' }),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    expectErrorBody(
      await postMessage(relay.url, other.agent.token, { conversationKey: 'nobody:none', text: 'x' }),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    expectErrorBody(
      await postMessage(relay.url, mine.agent.token, { conversationKey: mine.conversationKey }),
      400,
      'VALIDATION_ERROR',
      { details: 'allowed' },
    );
    expectErrorBody(
      await postMessage(relay.url, mine.agent.token, {
        conversationKey: mine.conversationKey,
        text: 'a',
        response: textReply('b'),
      }),
      400,
      'VALIDATION_ERROR',
      { details: 'allowed' },
    );
    expectErrorBody(
      await postMessage(relay.url, mine.agent.token, {
        conversationKey: mine.conversationKey,
        response: { works: { type: 'text', text: 'x' } },
      }),
      400,
      'VALIDATION_ERROR',
      { details: 'allowed' },
    );
    const pending = await createSession(relay.url);
    expectErrorBody(
      await postMessage(relay.url, pending.sessionToken, {
        conversationKey: mine.conversationKey,
        text: 'x',
      }),
      401,
      'SESSION_NOT_PAIRED',
    );
    // Status: someone else's id is as unknown as a missing one; a non-UUID is 400.
    const sent = await postMessage(relay.url, mine.agent.token, {
      conversationKey: mine.conversationKey,
      text: 'y',
    });
    expectErrorBody(await getMessage(relay.url, other.agent.token, sent.body.id), 404, 'MESSAGE_NOT_FOUND');
    expectErrorBody(await getMessage(relay.url, mine.agent.token, 'not-a-uuid'), 400, 'VALIDATION_ERROR', {
      details: 'allowed',
    });
  });

  it('429 with Retry-After past RATE_LIMIT_MESSAGES_PER_MINUTE', async () => {
    const { agent, conversationKey } = await kakaoUser('proactive-limit');
    for (let i = 0; i < 5; i++) {
      await postMessage(relay.url, agent.token, { conversationKey, text: `m${i}` }).expect(202);
    }
    const refused = await postMessage(relay.url, agent.token, { conversationKey, text: 'one too many' });
    expectErrorBody(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});
