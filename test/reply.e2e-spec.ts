import { CallbackHttpClient, CallbackDns } from '@app/reply';
import {
  FakeKakao,
  KAKAO_FAIL,
  KAKAO_SUCCESS,
  loadFixture,
  openStream,
  pairAgent,
  postReply,
  resetState,
  sendMessage,
  SseClient,
  sql,
  textReply,
  userMessage,
  createSession,
  postWebhook,
  expectErrorBody,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';
import type { SkillResponse } from '@app/core';

const LOCAL_CALLBACKS = {
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
  // The 409s of relay-contract §5; LATE_REPLIES=hold (the default) is test/late-answers.e2e-spec.ts.
  LATE_REPLIES: 'reject',
};

interface OutboundRow {
  status: string;
  attempts: number;
  error: string | null;
  last_http_status: number | null;
  inbound_status: string;
}

async function outboundOf(messageId: string): Promise<OutboundRow | undefined> {
  const rows = await sql<OutboundRow>(
    `SELECT o.status, o.attempts, o.error, o.last_http_status, i.status AS inbound_status
       FROM inbound_messages i LEFT JOIN outbound_messages o ON o.inbound_message_id = i.id
      WHERE i.id = $1`,
    [messageId],
  );
  return rows[0];
}

async function waitForOutbound(messageId: string, status: string, timeoutMs = 15000): Promise<OutboundRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await outboundOf(messageId);
    if (row?.status === status) return row;
    if (Date.now() > deadline) throw new Error(`outbound of ${messageId} is ${row?.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pairs a user, opens the agent's stream, sends one message and returns what the agent saw. */
async function messageFor(relay: RunningRelay, userKey: string, callbackUrl: string | null) {
  const agent = await pairAgent(relay.url, userKey);
  const stream = await openStream(relay.url, agent.token);
  await sendMessage(relay.url, userMessage(userKey, `question from ${userKey}`, callbackUrl));
  const event = await stream.waitFor('message');
  return { agent, stream, messageId: JSON.parse(event.data).id as string };
}

describe('agent replies through the callback proxy (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelay({ ...LOCAL_CALLBACKS, REPLY_COALESCE_MS: '500' });
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await relay.close();
    await kakao.close();
  });

  it('sends exactly the SkillResponse the agent gave, once', async () => {
    const callbackUrl = kakao.callbackUrl();
    const { agent, stream, messageId } = await messageFor(relay, 'reply-user', callbackUrl);
    streams.push(stream);
    const response = loadFixture<SkillResponse>('skill-response-reply.json');
    const res = await postReply(relay.url, agent.token, { messageId, response }).expect(200);
    expect(res.body).toEqual({ success: true, status: 'accepted', replyId: expect.any(String) });
    const [received] = await kakao.waitForRequests(callbackUrl, 1);
    expect(received.body).toEqual(response);
    expect(received.headers['content-type']).toContain('application/json');
    const row = await waitForOutbound(messageId, 'sent');
    expect(row).toEqual({
      status: 'sent',
      attempts: 1,
      error: null,
      last_http_status: 200,
      inbound_status: 'replied',
    });
    // A later reply is refused and nothing more is sent.
    const late = await postReply(relay.url, agent.token, { messageId, response });
    expectErrorBody(late, 409, 'ALREADY_REPLIED');
    expect(kakao.requestsTo(callbackUrl)).toHaveLength(1);
  });

  it('merges three replies 200 ms apart into one callback; a fourth after the send is 409', async () => {
    const callbackUrl = kakao.callbackUrl();
    const { agent, stream, messageId } = await messageFor(relay, 'coalesce-user', callbackUrl);
    streams.push(stream);
    for (const text of ['첫 번째', '두 번째', '세 번째']) {
      await postReply(relay.url, agent.token, { messageId, response: textReply(text) }).expect(200);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [received] = await kakao.waitForRequests(callbackUrl, 1);
    expect(received.body).toEqual(textReply('첫 번째\n\n두 번째\n\n세 번째'));
    await waitForOutbound(messageId, 'sent');
    const fourth = await postReply(relay.url, agent.token, { messageId, response: textReply('네 번째') });
    expectErrorBody(fourth, 409, 'ALREADY_REPLIED');
    expect(kakao.requestsTo(callbackUrl)).toHaveLength(1);
  });

  it('records Kakao FAIL as failed and tells the stream with an error event naming the message', async () => {
    const callbackUrl = kakao.callbackUrl({ kind: 'answer', body: KAKAO_FAIL });
    const { agent, stream, messageId } = await messageFor(relay, 'fail-user', callbackUrl);
    streams.push(stream);
    await postReply(relay.url, agent.token, { messageId, response: textReply('hi') }).expect(200);
    const row = await waitForOutbound(messageId, 'failed');
    expect(row.error).toContain('FAIL');
    expect(row.error).toContain('Invalid callback token');
    expect(row.attempts).toBe(1);
    expect(row.inbound_status).toBe('failed');
    const error = JSON.parse((await stream.waitFor('error')).data);
    expect(error).toEqual({
      code: 'CALLBACK_FAILED',
      message: expect.stringContaining(messageId),
      messageId,
    });
    expect(kakao.requestsTo(callbackUrl)).toHaveLength(1);
  });

  it('retries 500s and records the send after the retries', async () => {
    const callbackUrl = kakao.callbackUrl(
      { kind: 'answer', status: 500, body: { error: 'boom' } },
      { kind: 'answer', status: 500, body: { error: 'boom' } },
      { kind: 'answer', body: KAKAO_SUCCESS },
    );
    const { agent, stream, messageId } = await messageFor(relay, 'retry-user', callbackUrl);
    streams.push(stream);
    await postReply(relay.url, agent.token, { messageId, response: textReply('eventually') }).expect(200);
    const row = await waitForOutbound(messageId, 'sent');
    expect(row.attempts).toBe(3);
    expect(kakao.requestsTo(callbackUrl)).toHaveLength(3);
    expect(
      kakao
        .requestsTo(callbackUrl)
        .every((r) => JSON.stringify(r.body) === JSON.stringify(textReply('eventually'))),
    ).toBe(true);
  });

  it('does not follow redirects', async () => {
    const callbackUrl = kakao.callbackUrl({ kind: 'redirect', location: `${kakao.url}/elsewhere` });
    const { agent, stream, messageId } = await messageFor(relay, 'redirect-user', callbackUrl);
    streams.push(stream);
    await postReply(relay.url, agent.token, { messageId, response: textReply('x') }).expect(200);
    const row = await waitForOutbound(messageId, 'failed');
    expect(row.error).toContain('redirect');
    expect(kakao.received.filter((r) => r.path === '/elsewhere')).toHaveLength(0);
  });

  it('validates and isolates: 400 for bad input, 404 for unknown or foreign messages, 401 before pairing', async () => {
    const { agent, stream, messageId } = await messageFor(relay, 'owner-user', kakao.callbackUrl());
    streams.push(stream);
    const other = await pairAgent(relay.url, 'other-user');
    const foreign = await postReply(relay.url, other.token, { messageId, response: textReply('x') });
    expectErrorBody(foreign, 404, 'MESSAGE_NOT_FOUND');
    await postReply(relay.url, agent.token, {
      messageId: '6f1c1e9e-1111-4a4a-9b9b-000000000000',
      response: textReply('x'),
    }).expect(404);
    for (const body of [
      { messageId: 'not-a-uuid', response: textReply('x') },
      { messageId, response: { template: {} } },
      { messageId, response: { version: '1.0' } },
      { messageId, response: [] },
      { messageId },
      { response: textReply('x') },
      { messageId: 42, response: textReply('x') },
      '{"messageId":',
      '[]',
    ]) {
      const res = await postReply(relay.url, agent.token, body);
      expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'allowed' });
    }
    await postReply(relay.url, 'f'.repeat(64), { messageId, response: textReply('x') }).expect(401);
    const pending = await createSession(relay.url);
    const notPaired = await postReply(relay.url, pending.sessionToken, {
      messageId,
      response: textReply('x'),
    });
    expectErrorBody(notPaired, 401, 'SESSION_NOT_PAIRED');
    // Nothing of that reached the outbound table.
    expect(await outboundOf(messageId)).toEqual(expect.objectContaining({ status: null }));
  });
});

describe('callback deadlines (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;

  beforeAll(async () => {
    kakao = await FakeKakao.start();
    relay = await startRelay({ ...LOCAL_CALLBACKS, REPLY_COALESCE_MS: '100', CALLBACK_TTL_SECONDS: '2' });
  });
  afterAll(async () => {
    await relay.close();
    await kakao.close();
  });

  it('a reply after CALLBACK_TTL_SECONDS is 409 CALLBACK_EXPIRED, never 410 or 401', async () => {
    const { agent, stream, messageId } = await messageFor(relay, 'slow-agent', kakao.callbackUrl());
    await new Promise((r) => setTimeout(r, 2100));
    const res = await postReply(relay.url, agent.token, { messageId, response: textReply('too late') });
    expectErrorBody(res, 409, 'CALLBACK_EXPIRED');
    stream.close();
  });

  it('a callback server that hangs is recorded as failed (timeout) and reported', async () => {
    const callbackUrl = kakao.callbackUrl({ kind: 'hang' });
    const { agent, stream, messageId } = await messageFor(relay, 'hang-user', callbackUrl);
    await postReply(relay.url, agent.token, { messageId, response: textReply('into the void') }).expect(200);
    const row = await waitForOutbound(messageId, 'failed', 12000);
    expect(row.error).toMatch(/no answer within/);
    const error = JSON.parse((await stream.waitFor('error', 5000)).data);
    expect(error.messageId).toBe(messageId);
    stream.close();
  });
});

describe('callback URL policy (e2e)', () => {
  let relay: RunningRelay;
  let attempt: jest.SpyInstance;

  beforeAll(async () => {
    relay = await startRelay({ REPLY_COALESCE_MS: '50' });
    // No request may leave this machine: any attempt is recorded and answered here.
    attempt = jest.spyOn(relay.app.get(CallbackHttpClient), 'attempt').mockResolvedValue({
      httpStatus: 200,
      kakaoStatus: 'SUCCESS',
      ok: true,
      transient: false,
      error: null,
    });
    jest.spyOn(relay.app.get(CallbackDns), 'resolve').mockImplementation(async (host: string) => {
      if (host === 'internal.kakao.com') return [{ address: '10.0.0.1', family: 4 }];
      if (host === '127.0.0.1.nip.io') return [{ address: '127.0.0.1', family: 4 }];
      if (host === 'bot-api.kakao.com') return [{ address: '211.249.220.24', family: 4 }];
      const v6: Record<string, string> = {
        'compat.kakao.com': '::127.0.0.1', // IPv4-compatible loopback
        'nat64.kakao.com': '64:ff9b:1::a00:1', // local-use NAT64 of 10.0.0.1
        'sixtofour.kakao.com': '2002:7f00:1::', // 6to4 of 127.0.0.1
        'teredo.kakao.com': '2001::1',
      };
      if (v6[host]) return [{ address: v6[host], family: 6 }];
      throw new Error('ENOTFOUND');
    });
  });
  afterAll(() => relay.close());

  it.each([
    ['http://bot-api.kakao.com/v1/callback/x', /https/],
    ['https://evil.example/callback', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://127.0.0.1.nip.io/callback', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
    ['https://bot-api.kakao.com:8443/v1/callback/x', /port 443/],
    ['https://[::ffff:127.0.0.1]/v1/callback/x', /not in KAKAO_CALLBACK_ALLOWED_HOSTS/],
  ])('refuses %s at the webhook already (400, nothing stored)', async (callbackUrl, reason) => {
    const userKey = `policy-${Math.random()}`;
    const agent = await pairAgent(relay.url, userKey);
    const res = await postWebhook(relay.url, userMessage(userKey, 'refused callback', callbackUrl));
    const body = expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'required' });
    expect(JSON.stringify(body.details)).toMatch(reason);
    expect(await sql('SELECT id FROM inbound_messages WHERE account_id = $1', [agent.accountId])).toEqual([]);
  });

  // Names pass the webhook (it does not resolve them); the sender refuses what they resolve to.
  it.each([
    ['https://internal.kakao.com/v1/callback/x', /non-public address \(10\.0\.0\.1\)/],
    ['https://compat.kakao.com/v1/callback/x', /non-public address \(::127\.0\.0\.1\)/],
    ['https://nat64.kakao.com/v1/callback/x', /non-public address \(64:ff9b:1::a00:1\)/],
    ['https://sixtofour.kakao.com/v1/callback/x', /non-public address \(2002:7f00:1::\)/],
    ['https://teredo.kakao.com/v1/callback/x', /non-public address \(2001::1\)/],
  ])('never contacts %s', async (callbackUrl, reason) => {
    attempt.mockClear();
    const { agent, stream, messageId } = await messageFor(relay, `policy-${Math.random()}`, callbackUrl);
    await postReply(relay.url, agent.token, { messageId, response: textReply('x') }).expect(200);
    const row = await waitForOutbound(messageId, 'failed');
    expect(row.error).toMatch(reason);
    expect(row.attempts).toBe(0);
    expect(attempt).not.toHaveBeenCalled();
    expect(JSON.parse((await stream.waitFor('error')).data).messageId).toBe(messageId);
    stream.close();
  });

  it('contacts an allowed https Kakao host at the address it resolved', async () => {
    attempt.mockClear();
    const { agent, stream, messageId } = await messageFor(
      relay,
      'policy-ok',
      'https://bot-api.kakao.com/v1/callback/ok',
    );
    await postReply(relay.url, agent.token, { messageId, response: textReply('x') }).expect(200);
    await waitForOutbound(messageId, 'sent');
    expect(attempt).toHaveBeenCalledTimes(1);
    const [url, address] = attempt.mock.calls[0] as [URL, { address: string }];
    expect(url.href).toBe('https://bot-api.kakao.com/v1/callback/ok');
    expect(address.address).toBe('211.249.220.24');
    stream.close();
  });
});

describe('synchronous replies with REPLY_COALESCE_MS=0 (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;

  beforeAll(async () => {
    kakao = await FakeKakao.start();
    relay = await startRelay({
      ...LOCAL_CALLBACKS,
      REPLY_COALESCE_MS: '0',
      RATE_LIMIT_REPLIES_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await relay.close();
    await kakao.close();
  });

  it('answers deliveredAt after the send, 409 for the next reply, 502 when Kakao refuses, 429 past the limit', async () => {
    const callbackUrl = kakao.callbackUrl();
    const { agent, stream, messageId } = await messageFor(relay, 'sync-user', callbackUrl);
    const before = Date.now();
    const res = await postReply(relay.url, agent.token, { messageId, response: textReply('now') }).expect(
      200,
    );
    expect(res.body).toEqual({ success: true, deliveredAt: expect.any(Number) });
    expect(res.body.deliveredAt).toBeGreaterThanOrEqual(before - 1000);
    expect(kakao.requestsTo(callbackUrl)).toHaveLength(1);
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-remaining']).toBe('2');
    await postReply(relay.url, agent.token, { messageId, response: textReply('again') }).expect(409);

    const failUrl = kakao.callbackUrl({ kind: 'answer', body: KAKAO_FAIL });
    await sendMessage(relay.url, userMessage('sync-user', 'second question', failUrl));
    const second = JSON.parse((await stream.waitForCount('message', 2))[1].data).id as string;
    const failed = await postReply(relay.url, agent.token, {
      messageId: second,
      response: textReply('x'),
    });
    expectErrorBody(failed, 502, 'CALLBACK_FAILED', { message: 'FAIL' });

    const limited = await postReply(relay.url, agent.token, { messageId: second, response: textReply('x') });
    expectErrorBody(limited, 429, 'RATE_LIMITED', {
      retryAfter: true,
      headers: { 'x-ratelimit-remaining': '0' },
    });
    stream.close();
  });
});

describe('inline mode across replicas (e2e)', () => {
  let a: RunningRelay;
  let b: RunningRelay;

  beforeAll(async () => {
    const config = { REPLY_COALESCE_MS: '200', INLINE_REPLY_TIMEOUT_MS: '4500' };
    [a, b] = await Promise.all([startRelay(config), startRelay(config)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('the webhook held by A answers with the reply posted to B', async () => {
    const agent = await pairAgent(a.url, 'inline-pair');
    const stream = await openStream(b.url, agent.token);
    const pendingWebhook = sendMessage(a.url, userMessage('inline-pair', 'inline question', null));
    const messageId = JSON.parse((await stream.waitFor('message')).data).id as string;
    await postReply(b.url, agent.token, { messageId, response: textReply('첫 줄') }).expect(200);
    await postReply(b.url, agent.token, { messageId, response: textReply('둘째 줄') }).expect(200);
    const answer = await pendingWebhook;
    expect(answer).toEqual(textReply('첫 줄\n\n둘째 줄'));
    await waitForOutbound(messageId, 'sent');
    stream.close();
  });

  it('a reply after the inline timeout is 409 CALLBACK_EXPIRED', async () => {
    const relayShort = await startRelay({ INLINE_REPLY_TIMEOUT_MS: '200', LATE_REPLIES: 'reject' });
    try {
      const agent = await pairAgent(relayShort.url, 'inline-late');
      const stream = await openStream(relayShort.url, agent.token);
      const answer = await sendMessage(relayShort.url, userMessage('inline-late', 'quick?', null));
      expect(JSON.stringify(answer)).toContain('답변을 준비하고');
      const messageId = JSON.parse((await stream.waitFor('message')).data).id as string;
      const late = await postReply(relayShort.url, agent.token, { messageId, response: textReply('late') });
      expectErrorBody(late, 409, 'CALLBACK_EXPIRED');
      stream.close();
    } finally {
      await relayShort.close();
    }
  });
});
