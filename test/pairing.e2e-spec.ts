import request from 'supertest';
import {
  createSession,
  kakaoPayload,
  openStream,
  pairAgent,
  postWebhook,
  resetState,
  sendMessage,
  sendPair,
  SseClient,
  sql,
  textOf,
  userMessage,
  expectErrorBody,
  KAKAO_MESSAGE_EVENT_KEYS,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';
import type { SkillResponse } from '@app/core';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('pairing (e2e)', () => {
  let relay: RunningRelay;
  const streams: SseClient[] = [];
  const track = (s: SseClient) => (streams.push(s), s);

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ INLINE_REPLY_TIMEOUT_MS: '300' });
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(() => relay.close());

  it('runs the whole flow as the plugin does it', async () => {
    const session = await createSession(relay.url);
    expect(session.sessionToken).toMatch(/^[0-9a-f]{64}$/);
    expect(session.pairingCode).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(session).toEqual({
      sessionToken: expect.any(String),
      pairingCode: expect.any(String),
      expiresIn: 300,
      status: 'pending_pairing',
    });

    const pending = track(await SseClient.connect(relay.url, { token: session.sessionToken }));
    expect(pending.status).toBe(200);
    expect(pending.headers['content-type']).toBe('text/event-stream');
    expect(pending.headers['cache-control']).toBe('no-cache');
    expect(pending.headers['x-accel-buffering']).toBe('no');
    const connected = await pending.waitFor('connected');
    expect(pending.events[0]).toBe(connected);
    const connectedData = JSON.parse(connected.data);
    expect(connectedData).toEqual({
      accountId: null,
      sessionId: expect.stringMatching(UUID),
      status: 'pending_pairing',
    });
    expect(connected.raw).toBe(`id: 0\nevent: connected\ndata: ${connected.data}\n\n`);

    // The user types the code as they see it, in lower case without the hyphen.
    const answer = await sendPair(
      relay.url,
      session.pairingCode.replace('-', '').toLowerCase(),
      'Xk3Lp9QaZt2m',
    );
    expect(answer).toContain('연결되었습니다');

    const paired = JSON.parse((await pending.waitFor('pairing_complete')).data);
    expect(paired).toEqual({
      kakaoUserId: 'Xk3Lp9QaZt2m',
      pairedAt: expect.stringMatching(ISO),
      accountId: expect.stringMatching(UUID),
      conversationKey: '65f1e2d3c4b5a69788796a5b:Xk3Lp9QaZt2m',
    });

    const status = await request(relay.url).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
    expect(status.body).toEqual({
      status: 'paired',
      pairedAt: paired.pairedAt,
      kakaoUserId: 'Xk3Lp9QaZt2m',
      accountId: paired.accountId,
    });
    pending.close();

    const stream = track(await openStream(relay.url, session.sessionToken));
    expect(JSON.parse(stream.events[0].data)).toEqual({
      accountId: paired.accountId,
      sessionId: connectedData.sessionId,
      status: 'paired',
    });

    const payload = kakaoPayload({ userKey: 'Xk3Lp9QaZt2m' });
    const reply = await sendMessage(relay.url, payload);
    expect(reply).toEqual({ version: '2.0', useCallback: true });

    const event = await stream.waitFor('message');
    const data = JSON.parse(event.data);
    expect(data).toEqual({
      id: expect.stringMatching(UUID),
      conversationKey: '65f1e2d3c4b5a69788796a5b:Xk3Lp9QaZt2m',
      channel: 'kakao',
      kakaoPayload: payload,
      normalized: {
        userId: 'Xk3Lp9QaZt2m',
        text: '내일 서울 날씨 알려줘',
        channelId: '65f1e2d3c4b5a69788796a5b',
      },
      createdAt: expect.stringMatching(ISO),
      payload,
    });
    expect(event.raw).toBe(`id: 1\nevent: message\ndata: ${event.data}\n\n`);
    expect(Object.keys(data)).toEqual(KAKAO_MESSAGE_EVENT_KEYS);

    const [row] = await sql<{ status: string; kakao_payload: unknown }>(
      'SELECT status, kakao_payload FROM inbound_messages WHERE id = $1',
      [data.id],
    );
    expect(row.kakao_payload).toEqual(payload);
  });

  it('accepts the token as ?token= on the stream', async () => {
    const session = await createSession(relay.url);
    const stream = track(
      await SseClient.connect(relay.url, { token: session.sessionToken, tokenInQuery: true }),
    );
    expect(stream.status).toBe(200);
    await stream.waitFor('connected');
  });

  it('lets exactly one of 30 conversations win a code', async () => {
    const session = await createSession(relay.url);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => sendPair(relay.url, session.pairingCode, `racer-${i}`)),
    );
    expect(answers.filter((a) => a.includes('연결되었습니다'))).toHaveLength(1);
    expect(answers.filter((a) => a.includes('유효하지 않거나 만료된 코드'))).toHaveLength(29);
    const rows = await sql(
      "SELECT count(*)::int AS n FROM conversations WHERE state = 'paired' AND user_id LIKE 'racer-%'",
    );
    expect(rows[0].n).toBe(1);
    const accounts = await sql<{ n: number }>(
      "SELECT count(DISTINCT account_id)::int AS n FROM sessions WHERE status = 'paired' AND kakao_user_id LIKE 'racer-%'",
    );
    expect(accounts[0].n).toBe(1);
  });

  it('refuses a code that was already used', async () => {
    const session = await createSession(relay.url);
    expect(await sendPair(relay.url, session.pairingCode, 'first-user')).toContain('연결되었습니다');
    expect(await sendPair(relay.url, session.pairingCode, 'second-user')).toContain('유효하지 않거나');
  });

  it('answers the relay commands in Korean', async () => {
    const say = async (utterance: string, userKey: string) =>
      textOf((await postWebhook(relay.url, kakaoPayload({ utterance, userKey }))).body as SkillResponse);
    expect(await say('/help', 'cmd-user')).toContain('/pair');
    expect(await say('/HELP', 'cmd-user')).toContain('/unpair');
    expect(await say('/status', 'cmd-user')).toContain('연결된 에이전트가 없습니다');
    expect(await say('/unpair', 'cmd-user')).toBe('연결된 에이전트가 없습니다.');
    expect(await say('/pair', 'cmd-user')).toContain('예: /pair');
    expect(await say('안녕하세요', 'cmd-user')).toContain('/pair 코드');
    await pairAgent(relay.url, 'cmd-user');
    expect(await say('/status', 'cmd-user')).toContain('연결되어 있습니다');
  });

  it('limits /pair attempts per conversation', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await sendPair(relay.url, 'ZZZZ-ZZZZ', 'brute-forcer'));
    expect(answers.slice(0, 5).every((a) => a.includes('유효하지 않거나'))).toBe(true);
    expect(answers[5]).toContain('너무 많습니다');
    // Even a valid code is refused while the limit holds.
    const session = await createSession(relay.url);
    expect(await sendPair(relay.url, session.pairingCode, 'brute-forcer')).toContain('너무 많습니다');
  });

  it('/unpair disconnects the session: its stream gets pairing_expired and the token stops working', async () => {
    const agent = await pairAgent(relay.url, 'leaving-user');
    const stream = track(await openStream(relay.url, agent.token));
    const res = await postWebhook(relay.url, kakaoPayload({ utterance: '/unpair', userKey: 'leaving-user' }));
    expect(textOf(res.body)).toContain('해제했습니다');
    const expired = await stream.waitFor('pairing_expired');
    expect(JSON.parse(expired.data)).toEqual({ reason: 'unpaired' });
    await stream.waitForEnd();
    const again = await SseClient.connect(relay.url, { token: agent.token });
    expect(again.status).toBe(401);
    await again.waitForEnd();
    expectErrorBody(again, 401, 'SESSION_DISCONNECTED');
    const status = await request(relay.url).get(`/v1/sessions/${agent.token}/status`).expect(200);
    expect(status.body.status).toBe('disconnected');
    // The user's messages no longer reach anyone.
    expect(textOf(await sendMessage(relay.url, userMessage('leaving-user', 'hello?')))).toContain(
      '/pair 코드',
    );
  });

  it('status of an unknown or malformed token is 404 with the error body', async () => {
    const res = await request(relay.url).get(`/v1/sessions/${'0'.repeat(64)}/status`);
    expectErrorBody(res, 404, 'SESSION_NOT_FOUND');
    await request(relay.url).get('/v1/sessions/..%2F..%2Fetc%2Fpasswd/status').expect(404);
    await request(relay.url).get('/v1/sessions/x/status').expect(404);
  });
});

describe('pairing expiry (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay({ SESSION_TTL_SECONDS: '1' });
  });
  afterAll(() => relay.close());

  it('expires at the expiry instant: open streams get pairing_expired, then 401 and status expired', async () => {
    const session = await createSession(relay.url);
    expect(session.expiresIn).toBe(1);
    const stream = await openStream(relay.url, session.sessionToken);
    const expired = await stream.waitFor('pairing_expired', 3000);
    expect(JSON.parse(expired.data)).toEqual({ reason: 'expired' });
    await stream.waitForEnd();
    const again = await SseClient.connect(relay.url, { token: session.sessionToken });
    expect(again.status).toBe(401);
    await again.waitForEnd();
    expectErrorBody(again, 401, 'SESSION_EXPIRED');
    const status = await request(relay.url).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
    expect(status.body).toEqual({ status: 'expired' });
    expect(await sendPair(relay.url, session.pairingCode, 'late-user')).toContain('유효하지 않거나');
  });
});
