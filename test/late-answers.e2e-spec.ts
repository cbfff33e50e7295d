import request from 'supertest';
import {
  createSession,
  FakeKakao,
  KAKAO_SUCCESS,
  kakaoPayload,
  postWebhook,
  TEST_ADMIN_TOKEN,
  openStream,
  pairAgent,
  postReply,
  resetState,
  sendMessage,
  SseClient,
  sql,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  textReply,
  userMessage,
} from '@app/testing';
import { Clock, type SkillResponse } from '@app/core';
import { spawnRelay, RelayProcess } from './support/relay-process';
import { RunningRelay, startRelay } from './support/test-app';

/**
 * Late answers (server-mode §4): a reply after the callback's deadline is held and reaches the user with the
 * conversation's next answer, within Kakao's 3 outputs, once — across relays and a relay kill — and expires.
 * CALLBACK_TTL_SECONDS=1 stands for Kakao's 55 s (the unit tests drive the 55 s with a FixedClock).
 */
const ENV = {
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
  CALLBACK_TTL_SECONDS: '1',
  REPLY_COALESCE_MS: '100',
  CLEANUP_INTERVAL_SECONDS: '1',
};

const card = (title: string) => ({
  basicCard: { title, thumbnail: { imageUrl: 'https://example.com/a.png' } },
});
const cards = (...titles: string[]): SkillResponse => ({
  version: '2.0',
  template: { outputs: titles.map(card) },
});

async function heldRows(conversationKey: string) {
  return sql<{ id: string; status: string; sent_via: string | null; replies: unknown[] }>(
    `SELECT id, status, sent_via, replies FROM held_answers WHERE conversation_key = $1 ORDER BY created_at`,
    [conversationKey],
  );
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 10000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('late answers: held and delivered with the next answer (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelay(ENV);
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await relay.close();
    await kakao.close();
  });

  /** A paired user with a stream; `ask` sends a message and returns its id. */
  async function user(base: string, userKey: string) {
    const agent = await pairAgent(base, userKey);
    const stream = await openStream(base, agent.token);
    streams.push(stream);
    let seen = 0;
    const ask = async (text: string, callbackUrl: string, via = base) => {
      await sendMessage(via, userMessage(userKey, text, callbackUrl));
      const events = await stream.waitForCount('message', ++seen);
      return JSON.parse(events[seen - 1].data) as { id: string; conversationKey: string };
    };
    return { agent, ask };
  }

  it('a reply after the deadline is held (200 held) and goes before the next answer, texts merged, once', async () => {
    const { agent, ask } = await user(relay.url, 'late-user-1');
    const first = kakao.callbackUrl();
    const m1 = await ask('질문 1', first);
    await sleep(1100);
    const held = await postReply(relay.url, agent.token, {
      messageId: m1.id,
      response: textReply('늦은 답'),
    }).expect(200);
    expect(held.body).toEqual({ success: true, status: 'held', replyId: expect.any(String) });
    // A second late reply to the same message is merged into the same held answer.
    await postReply(relay.url, agent.token, { messageId: m1.id, response: textReply('덧붙임') }).expect(200);
    const rows = await heldRows(m1.conversationKey);
    expect(rows.map((r) => [r.status, r.replies.length])).toEqual([['held', 2]]);
    expect(kakao.requestsTo(first)).toHaveLength(0);

    const second = kakao.callbackUrl();
    const m2 = await ask('질문 2', second);
    await postReply(relay.url, agent.token, { messageId: m2.id, response: textReply('새 답') }).expect(200);
    const [received] = await kakao.waitForRequests(second, 1);
    expect(received.body).toEqual(textReply('늦은 답\n\n덧붙임\n\n새 답'));
    const after = await waitFor(
      'held sent',
      () => heldRows(m1.conversationKey),
      (r) => r[0]?.status === 'sent',
    );
    expect(after.map((r) => [r.status, r.sent_via])).toEqual([['sent', 'next_answer']]);

    // The answer after that carries nothing held any more.
    const third = kakao.callbackUrl();
    const m3 = await ask('질문 3', third);
    await postReply(relay.url, agent.token, { messageId: m3.id, response: textReply('세 번째') }).expect(200);
    const [again] = await kakao.waitForRequests(third, 1);
    expect(again.body).toEqual(textReply('세 번째'));
  });

  it('the merged outputs respect the 3-output limit; a held answer that does not fit waits for the next', async () => {
    const { agent, ask } = await user(relay.url, 'late-user-2');
    const m1 = await ask('질문 1', kakao.callbackUrl());
    const m2 = await ask('질문 2', kakao.callbackUrl());
    await sleep(1100);
    await postReply(relay.url, agent.token, { messageId: m1.id, response: cards('a', 'b') }).expect(200);
    await postReply(relay.url, agent.token, { messageId: m2.id, response: cards('c', 'd') }).expect(200);
    const next = kakao.callbackUrl();
    const m3 = await ask('질문 3', next);
    await postReply(relay.url, agent.token, { messageId: m3.id, response: textReply('지금 답') }).expect(200);
    const [received] = await kakao.waitForRequests(next, 1);
    // The oldest held answer (2 cards) fits with the answer; the second (2 more cards) would not.
    expect((received.body as SkillResponse).template?.outputs).toEqual([
      card('a'),
      card('b'),
      { simpleText: { text: '지금 답' } },
    ]);
    const rows = await waitFor(
      'first held sent',
      () => heldRows(m3.conversationKey),
      (r) => r[0]?.status === 'sent',
    );
    expect(rows.map((r) => r.status)).toEqual(['sent', 'held']);

    const last = kakao.callbackUrl();
    const m4 = await ask('질문 4', last);
    await postReply(relay.url, agent.token, { messageId: m4.id, response: textReply('끝') }).expect(200);
    const [received2] = await kakao.waitForRequests(last, 1);
    const outputs = (received2.body as SkillResponse).template?.outputs ?? [];
    expect(outputs.length).toBeLessThanOrEqual(3);
    expect(outputs).toEqual([card('c'), card('d'), { simpleText: { text: '끝' } }]);
  });

  it('a failed next send gives the held answer back for the answer after it', async () => {
    const { agent, ask } = await user(relay.url, 'late-user-3');
    const m1 = await ask('질문 1', kakao.callbackUrl());
    await sleep(1100);
    await postReply(relay.url, agent.token, { messageId: m1.id, response: textReply('보류') }).expect(200);
    const refused = kakao.callbackUrl({
      kind: 'answer',
      body: { taskId: 't', status: 'FAIL', message: 'expired' },
    });
    const m2 = await ask('질문 2', refused);
    await postReply(relay.url, agent.token, { messageId: m2.id, response: textReply('실패할 답') }).expect(
      200,
    );
    await kakao.waitForRequests(refused, 1);
    await waitFor(
      'held again',
      () => heldRows(m1.conversationKey),
      (r) => r[0]?.status === 'held',
    );
    const ok = kakao.callbackUrl();
    const m3 = await ask('질문 3', ok);
    await postReply(relay.url, agent.token, { messageId: m3.id, response: textReply('성공') }).expect(200);
    const [received] = await kakao.waitForRequests(ok, 1);
    expect(received.body).toEqual(textReply('보류\n\n성공'));
  });

  it('a held answer expires after HELD_ANSWER_TTL_HOURS (the cleanup) and is then never sent', async () => {
    const { agent, ask } = await user(relay.url, 'late-user-4');
    const m1 = await ask('질문 1', kakao.callbackUrl());
    await sleep(1100);
    await postReply(relay.url, agent.token, { messageId: m1.id, response: textReply('만료될 답') }).expect(
      200,
    );
    await sql(
      `UPDATE held_answers SET expires_at = now() - interval '1 second' WHERE inbound_message_id = $1`,
      [m1.id],
    );
    await waitFor(
      'expired',
      () => heldRows(m1.conversationKey),
      (r) => r[0]?.status === 'expired',
      15000,
    );
    const next = kakao.callbackUrl();
    const m2 = await ask('질문 2', next);
    await postReply(relay.url, agent.token, { messageId: m2.id, response: textReply('다음') }).expect(200);
    const [received] = await kakao.waitForRequests(next, 1);
    expect(received.body).toEqual(textReply('다음'));
  });

  it('once, never twice: two relays on one database answering the next two messages at once', async () => {
    const other = await startRelay(ENV);
    try {
      const { agent, ask } = await user(relay.url, 'late-user-5');
      const m1 = await ask('질문 1', kakao.callbackUrl());
      await sleep(1100);
      await postReply(other.url, agent.token, { messageId: m1.id, response: textReply('한 번만') }).expect(
        200,
      );
      const a = kakao.callbackUrl();
      const b = kakao.callbackUrl();
      const ma = await ask('질문 A', a, relay.url);
      const mb = await ask('질문 B', b, other.url);
      await Promise.all([
        postReply(relay.url, agent.token, { messageId: ma.id, response: textReply('A') }).expect(200),
        postReply(other.url, agent.token, { messageId: mb.id, response: textReply('B') }).expect(200),
      ]);
      const [ra] = await kakao.waitForRequests(a, 1);
      const [rb] = await kakao.waitForRequests(b, 1);
      const texts = [ra.body, rb.body].map((body) => JSON.stringify(body));
      expect(texts.filter((t) => t.includes('한 번만'))).toHaveLength(1);
      const rows = await waitFor(
        'held sent',
        () => heldRows(m1.conversationKey),
        (r) => r[0]?.status === 'sent',
      );
      expect(rows.map((r) => [r.status, r.sent_via])).toEqual([['sent', 'next_answer']]);
    } finally {
      await other.close();
    }
  });

  it('survives a relay kill: held by a relay that is then killed, delivered once by another', async () => {
    let child: RelayProcess | null = await spawnRelay({
      ...ENV,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: TEST_REDIS_PREFIX,
    });
    try {
      const { agent, ask } = await user(relay.url, 'late-user-6');
      const m1 = await ask('질문 1', kakao.callbackUrl());
      await sleep(1100);
      await postReply(child.url, agent.token, {
        messageId: m1.id,
        response: textReply('살아남은 답'),
      }).expect(200);
      await child.kill('SIGKILL');
      child = null;
      const next = kakao.callbackUrl();
      const m2 = await ask('질문 2', next);
      await postReply(relay.url, agent.token, { messageId: m2.id, response: textReply('다음') }).expect(200);
      const [received] = await kakao.waitForRequests(next, 1);
      expect(received.body).toEqual(textReply('살아남은 답\n\n다음'));
      const third = kakao.callbackUrl();
      const m3 = await ask('질문 3', third);
      await postReply(relay.url, agent.token, { messageId: m3.id, response: textReply('셋') }).expect(200);
      const [again] = await kakao.waitForRequests(third, 1);
      expect(again.body).toEqual(textReply('셋'));
    } finally {
      await child?.kill('SIGKILL');
    }
  }, 60000);
});

describe('late answers: a relay killed mid-send loses no held answer (e2e)', () => {
  let front: RunningRelay;
  let kakao: FakeKakao;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    // HTTP only: the spawned relay below is the only worker, so it is the one that claims the send.
    front = await startRelay({ ...ENV, WORKER_IN_PROCESS: 'false' });
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await front.close();
    await kakao.close();
  });

  it('claimed with a send whose relay dies before the send finished, then delivered with the answer after', async () => {
    let worker: RelayProcess | null = await spawnRelay({
      ...ENV,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: TEST_REDIS_PREFIX,
    });
    let rescuer: RunningRelay | null = null;
    try {
      const agent = await pairAgent(front.url, 'kill-mid-send');
      const stream = await openStream(front.url, agent.token);
      streams.push(stream);
      let seen = 0;
      const ask = async (text: string, callbackUrl: string) => {
        await sendMessage(front.url, userMessage('kill-mid-send', text, callbackUrl));
        const events = await stream.waitForCount('message', ++seen);
        return JSON.parse(events[seen - 1].data) as { id: string; conversationKey: string };
      };
      const m1 = await ask('질문 1', kakao.callbackUrl());
      await sleep(1100);
      await postReply(front.url, agent.token, {
        messageId: m1.id,
        response: textReply('잃지 않을 답'),
      }).expect(200);
      // The next answer's callback never answers: the worker claims the held answer with that send and hangs.
      const hanging = kakao.callbackUrl({ kind: 'hang' });
      const m2 = await ask('질문 2', hanging);
      await postReply(front.url, agent.token, {
        messageId: m2.id,
        response: textReply('중간에 죽음'),
      }).expect(200);
      await kakao.waitForRequests(hanging, 1);
      expect((await heldRows(m1.conversationKey))[0].status).toBe('claimed');
      await worker.kill('SIGKILL');
      worker = null;
      // Another worker: the stalled send job (or the cleanup) ends that send, and the claim is given back.
      rescuer = await startRelay(ENV);
      await waitFor(
        'held again',
        () => heldRows(m1.conversationKey),
        (r) => r[0]?.status === 'held',
        75_000,
      );
      const next = kakao.callbackUrl();
      const m3 = await ask('질문 3', next);
      await postReply(front.url, agent.token, { messageId: m3.id, response: textReply('다음') }).expect(200);
      const [received] = await kakao.waitForRequests(next, 1, 15_000);
      expect(received.body).toEqual(textReply('잃지 않을 답\n\n다음'));
      await waitFor(
        'sent',
        () => heldRows(m1.conversationKey),
        (r) => r[0]?.status === 'sent',
      );
    } finally {
      await worker?.kill('SIGKILL');
      await rescuer?.close();
    }
  }, 120_000);
});

describe("late answers: delivered through Kakao's Event API (e2e, against a local fake)", () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  let eventApi: FakeKakao;
  const streams: SseClient[] = [];
  const fixture = kakaoPayload();
  const botId = fixture.bot?.id ?? 'default';
  const botUserKey = fixture.userRequest.user.id;

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    eventApi = await FakeKakao.start();
    relay = await startRelay({
      ...ENV,
      KAKAO_EVENT_API_BASE_URL: eventApi.url,
      RELAY_SECRETS_KEY: 'ef'.repeat(32),
    });
    await request(relay.url)
      .put(`/admin/api/kakao/bots/${botId}`)
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .send({ restApiKey: 'rest-api-key-1', eventName: 'relay_held_answer', name: 'test bot' })
      .expect(201);
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await relay.close();
    await kakao.close();
    await eventApi.close();
  });

  const eventCalls = () => eventApi.received.filter((r) => r.path === `/v2/bots/${botId}/talk`);

  async function lateAnswer(userKey: string, response: SkillResponse) {
    const agent = await pairAgent(relay.url, userKey);
    const stream = await openStream(relay.url, agent.token);
    streams.push(stream);
    await sendMessage(relay.url, userMessage(userKey, '질문', kakao.callbackUrl()));
    const m1 = JSON.parse((await stream.waitFor('message')).data) as { id: string; conversationKey: string };
    await sleep(1100);
    const res = await postReply(relay.url, agent.token, { messageId: m1.id, response }).expect(200);
    expect(res.body.status).toBe('held');
    return { agent, stream, m1 };
  }

  const eventBlockRequest = (userKey: string, heldId: string) => {
    const payload = userMessage(userKey, '', null);
    payload.action = { name: 'relay', params: { heldId } };
    return payload;
  };

  it('calls the Event API (KakaoAK, the event with the heldId, the botUserKey) and answers the event block', async () => {
    const before = eventCalls().length;
    const { m1 } = await lateAnswer('event-user-1', textReply('이벤트로 간 답'));
    const call = await waitFor(
      'event call',
      async () => eventCalls(),
      (c) => c.length > before,
    );
    const received = call[call.length - 1];
    expect(received.headers.authorization).toBe('KakaoAK rest-api-key-1');
    const [row] = await heldRows(m1.conversationKey);
    expect(received.body).toEqual({
      event: { name: 'relay_held_answer', data: { heldId: row.id } },
      user: [{ type: 'botUserKey', id: botUserKey }],
    });
    expect(row.status).toBe('event_pending');
    // Kakao runs the event block: its skill request carries the heldId.
    const answer = await postWebhook(relay.url, eventBlockRequest('event-user-1', row.id));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(textReply('이벤트로 간 답'));
    const [sent] = await heldRows(m1.conversationKey);
    expect([sent.status, sent.sent_via]).toEqual(['sent', 'event_api']);
    // Once: the same request again gets a short text, and the next answer carries nothing held.
    const again = await postWebhook(relay.url, eventBlockRequest('event-user-1', row.id));
    expect(again.status).toBe(200);
    expect(JSON.stringify(again.body)).not.toContain('이벤트로 간 답');
  });

  it('when the Event API refuses, the agent gets an error event and the next answer carries the held answer', async () => {
    eventApi.script(
      `/v2/bots/${botId}/talk`,
      { kind: 'answer', body: { taskId: 't', status: 'FAIL', message: 'no wallet' } },
      { kind: 'answer', body: KAKAO_SUCCESS },
    );
    const { agent, stream, m1 } = await lateAnswer('event-user-2', textReply('대신 다음 답으로'));
    const error = JSON.parse((await stream.waitFor('error')).data) as { code: string; messageId: string };
    expect(error).toMatchObject({ code: 'KAKAO_EVENT_FAILED', messageId: m1.id });
    await waitFor(
      'held again',
      () => heldRows(m1.conversationKey),
      (r) => r[0]?.status === 'held',
    );
    const next = kakao.callbackUrl();
    await sendMessage(relay.url, userMessage('event-user-2', '질문 2', next));
    const events = await stream.waitForCount('message', 2);
    const m2 = JSON.parse(events[1].data) as { id: string };
    await postReply(relay.url, agent.token, { messageId: m2.id, response: textReply('새 답') }).expect(200);
    const [received] = await kakao.waitForRequests(next, 1);
    expect(received.body).toEqual(textReply('대신 다음 답으로\n\n새 답'));
  });
});

describe("late answers: a reply 55 s after the message (the relay's clock moved on, default CALLBACK_TTL_SECONDS)", () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  let eventApi: FakeKakao;
  const streams: SseClient[] = [];
  let offsetMs = 0;
  const eventBot = 'late55-event-bot';

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    eventApi = await FakeKakao.start();
    relay = await startRelay({
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
      REPLY_COALESCE_MS: '100',
      KAKAO_EVENT_API_BASE_URL: eventApi.url,
      RELAY_SECRETS_KEY: 'cd'.repeat(32),
    });
    // The relay decides by its Clock (the reply deadline, the accept rules): 55 s pass without waiting for them.
    const clock = relay.app.get(Clock);
    const real = clock.now.bind(clock);
    clock.now = () => real() + offsetMs;
    await request(relay.url)
      .put(`/admin/api/kakao/bots/${eventBot}`)
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .send({ restApiKey: 'key-55', eventName: 'relay_held_answer' })
      .expect(201);
  });
  afterEach(() => {
    offsetMs = 0;
    streams.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await relay.close();
    await kakao.close();
    await eventApi.close();
  });

  async function askOn(botId: string | undefined, userKey: string) {
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
    const stream = await openStream(relay.url, session.sessionToken);
    streams.push(stream);
    let seen = 0;
    const ask = async (text: string, callbackUrl: string) => {
      await sendMessage(relay.url, kakaoPayload({ utterance: text, userKey, botId, callbackUrl }));
      const events = await stream.waitForCount('message', ++seen);
      return JSON.parse(events[seen - 1].data) as { id: string; conversationKey: string };
    };
    return { token: session.sessionToken, ask };
  }

  it('next-answer path: held at 55 s, delivered before the next answer', async () => {
    const { token, ask } = await askOn(undefined, 'late55-user-1');
    const first = kakao.callbackUrl();
    const m1 = await ask('질문', first);
    offsetMs = 55_000;
    const held = await postReply(relay.url, token, { messageId: m1.id, response: textReply('55초 뒤의 답') });
    expect(held.body).toMatchObject({ success: true, status: 'held' });
    offsetMs = 0;
    const next = kakao.callbackUrl();
    const m2 = await ask('다음 질문', next);
    await postReply(relay.url, token, { messageId: m2.id, response: textReply('다음 답') }).expect(200);
    const [received] = await kakao.waitForRequests(next, 1);
    expect(received.body).toEqual(textReply('55초 뒤의 답\n\n다음 답'));
    expect(kakao.requestsTo(first)).toHaveLength(0);
  });

  it('Event API path: held at 55 s, the event block answers with it', async () => {
    const { token, ask } = await askOn(eventBot, 'late55-user-2');
    const m1 = await ask('질문', kakao.callbackUrl());
    offsetMs = 55_000;
    await postReply(relay.url, token, { messageId: m1.id, response: textReply('이벤트 답') }).expect(200);
    offsetMs = 0;
    const path = `/v2/bots/${eventBot}/talk`;
    const calls = await waitFor(
      'event call',
      async () => eventApi.received.filter((r) => r.path === path),
      (c) => c.length === 1,
    );
    const heldId = (calls[0].body as { event: { data: { heldId: string } } }).event.data.heldId;
    const block = kakaoPayload({
      utterance: '',
      userKey: 'late55-user-2',
      botId: eventBot,
      callbackUrl: null,
    });
    block.action = { params: { heldId } };
    const answer = await postWebhook(relay.url, block);
    expect(answer.body).toEqual(textReply('이벤트 답'));
  });

  it('LATE_REPLIES=reject keeps the 409 at 55 s', async () => {
    const rejecting = await startRelay({ LATE_REPLIES: 'reject' });
    try {
      const clock = rejecting.app.get(Clock);
      const real = clock.now.bind(clock);
      let offset = 0;
      clock.now = () => real() + offset;
      const agent = await pairAgent(rejecting.url, 'late55-reject');
      const stream = await openStream(rejecting.url, agent.token);
      streams.push(stream);
      await sendMessage(rejecting.url, userMessage('late55-reject', '질문'));
      const m1 = JSON.parse((await stream.waitFor('message')).data) as { id: string };
      offset = 55_000;
      const res = await postReply(rejecting.url, agent.token, {
        messageId: m1.id,
        response: textReply('늦음'),
      });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('CALLBACK_EXPIRED');
    } finally {
      await rejecting.close();
    }
  });
});
