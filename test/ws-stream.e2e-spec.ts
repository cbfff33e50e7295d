import { PinoLogger } from 'nestjs-pino';
import request from 'supertest';
import { RelayMetrics } from '@app/platform';
import { WebSocket } from 'ws';
import { StreamHub } from '@app/streams';
import {
  expectErrorBody,
  FakeKakao,
  kakaoPayload,
  openSocketStream,
  openStream,
  pairAgent,
  resetState,
  sendMessage,
  sql,
  TEST_ADMIN_TOKEN,
  textReply,
  uniqueCallbackUrl,
  userMessage,
  waitUntil,
  WsClient,
} from '@app/testing';
import { endRateLimitWindows, RunningRelay, startRelay } from './support/test-app';

const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const LOCAL_CALLBACKS = {
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost,bot-api.kakao.com',
};

/** A message whose payload is about `kib` KiB. */
function bigMessage(userKey: string, text: string, kib: number) {
  const payload = kakaoPayload({ utterance: text, userKey, callbackUrl: uniqueCallbackUrl() });
  (payload as unknown as { padding: string }).padding = 'x'.repeat(kib * 1024);
  return payload;
}

describe('agent stream over WebSocket (e2e, websocket.md §1)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  const clients: WsClient[] = [];
  const connect = async (options: Parameters<typeof WsClient.connect>[1]) => {
    const client = await WsClient.connect(relay.url, options);
    clients.push(client);
    return client;
  };
  const open = async (token: string, lastEventId?: number) => {
    const client = await openSocketStream(relay.url, token, lastEventId);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelay({
      ...LOCAL_CALLBACKS,
      REPLY_COALESCE_MS: '0',
      SSE_HEARTBEAT_SECONDS: '1',
      MAX_STREAMS_PER_IP: '6',
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await waitUntil(async () => relay.app.get(StreamHub).size === 0);
    await endRateLimitWindows(relay);
  });
  afterAll(async () => {
    await relay?.close();
    await kakao?.close();
  });

  it('refuses the upgrade with 401 and the error body, no socket: no token, a bad token, ?token=', async () => {
    const none = await connect({});
    expect(none.ws.readyState).not.toBe(WebSocket.OPEN);
    expectErrorBody({ status: none.status, headers: none.headers, text: none.body }, 401, 'TOKEN_MISSING');
    expect(none.headers['x-request-id']).toEqual(expect.any(String));

    const bad = await connect({ token: 'a'.repeat(64) });
    expectErrorBody({ status: bad.status, headers: bad.headers, text: bad.body }, 401, 'INVALID_TOKEN');

    // The token goes in the header only.
    const agent = await pairAgent(relay.url, 'ws-query-user');
    const query = await WsClient.connect(`${relay.url}/?token=${agent.token}`, {});
    clients.push(query);
    expect(query.status).toBe(401);

    // A plain GET of the path is not an upgrade: 404 from the HTTP side.
    await request(relay.url).get('/v1/ws').expect(404);
  });

  it('connected first (same data as SSE), live messages in order with their ids, replay with resume', async () => {
    const agent = await pairAgent(relay.url, 'ws-live-user');
    const socket = await open(agent.token);
    expect(socket.status).toBe(101);
    expect(socket.headers['x-request-id']).toEqual(expect.any(String));
    const connected = JSON.parse(socket.events[0].raw);
    expect(connected).toEqual({
      type: 'event',
      id: '0',
      event: 'connected',
      data: { accountId: agent.accountId, sessionId: expect.any(String), status: 'paired' },
    });
    const sse = await openStream(relay.url, agent.token);
    await sendMessage(relay.url, userMessage('ws-live-user', 'one'));
    await sendMessage(relay.url, userMessage('ws-live-user', 'two'));
    const frames = await socket.waitForCount('message', 2);
    expect(frames.map((e) => e.id)).toEqual(['1', '2']);
    const sseEvents = await sse.waitForCount('message', 2);
    // Exactly the data of the SSE event.
    expect(frames.map((e) => JSON.parse(e.data))).toEqual(sseEvents.map((e) => JSON.parse(e.data)));
    expect(JSON.parse(frames[0].raw)).toEqual({
      type: 'event',
      id: '1',
      event: 'message',
      data: JSON.parse(sseEvents[0].data),
    });
    sse.close();
    socket.close();

    // resume as the first frame: like Last-Event-ID, written-but-unanswered messages after it come again.
    const resumed = await open(agent.token, 1);
    const again = await resumed.waitForCount('message', 1);
    expect(again.map((e) => e.id)).toEqual(['2']);
    resumed.close();
    // The Last-Event-ID header on the upgrade means the same.
    const header = await connect({ token: agent.token, lastEventId: 0, lastEventIdHeader: true });
    expect((await header.waitForCount('message', 2)).map((e) => e.id)).toEqual(['1', '2']);
    // Events are written as UTF-8 bytes (WsTransport.write), and still as text frames.
    expect([socket, resumed, header].map((s) => s.binaryFrames)).toEqual([0, 0, 0]);
  });

  it('without a first frame the stream starts after a short wait; acks and bad frames are answered', async () => {
    const agent = await pairAgent(relay.url, 'ws-ack-user');
    await sendMessage(relay.url, userMessage('ws-ack-user', 'owed'));
    const socket = await connect({ token: agent.token, noResume: true });
    await socket.waitFor('connected', 3000);
    await socket.waitFor('message');
    socket.send({ type: 'ack', id: '1' });
    socket.send('not json');
    socket.send({ type: 'nope' });
    socket.send({ type: 'resume', lastEventId: '0' });
    socket.send({ type: 'ack', id: 'x' });
    await waitUntil(async () => socket.dataOf('error').length === 4);
    expect(socket.dataOf<{ code: string }>('error').map((e) => e.code)).toEqual(Array(4).fill('BAD_FRAME'));
    expect(socket.events.filter((e) => e.event === 'error').every((e) => e.id === undefined)).toBe(true);
    expect(socket.ended).toBe(false);
    const [mark] = await sql<{ seq: number }>(
      'SELECT delivered_seq::int AS seq FROM account_deliveries WHERE account_id = $1',
      [agent.accountId],
    );
    expect(mark.seq).toBe(1);
    // A frame over the limit (a reply body's 256 KiB and a little) closes the socket with 1009; nothing else breaks.
    const big = await connect({ token: agent.token });
    await big.waitFor('connected');
    big.send({ type: 'reply', requestId: 'big', pad: 'x'.repeat(300 * 1024) });
    await big.waitForEnd();
    expect(big.closeCode).toBe(1009);
    // Ten bad frames close the socket with 1008.
    for (let i = 0; i < 6; i++) socket.send('[]');
    await socket.waitForEnd();
    expect(socket.closeCode).toBe(1008);
  });

  it('reply over the socket: the callback reaches Kakao, reply_result carries 200; again → held; unknown → 404; bad → 400', async () => {
    const agent = await pairAgent(relay.url, 'ws-reply-user');
    const socket = await open(agent.token);
    const callbackUrl = kakao.callbackUrl();
    await sendMessage(relay.url, userMessage('ws-reply-user', 'question', callbackUrl));
    const messageId = JSON.parse((await socket.waitFor('message')).data).id as string;

    const ok = await socket.reply('r1', messageId, textReply('answer'));
    expect(ok).toEqual({
      type: 'reply_result',
      requestId: 'r1',
      status: 200,
      body: { success: true, deliveredAt: expect.any(Number) },
    });
    expect(kakao.requestsTo(callbackUrl)).toHaveLength(1);

    // A second answer after the callback was used: what POST /openclaw/reply answers — held (LATE_REPLIES=hold,
    // the default; server-mode §4), or 409 ALREADY_REPLIED under LATE_REPLIES=reject.
    const second = await socket.reply('r2', messageId, textReply('again'));
    expect(second).toEqual({
      type: 'reply_result',
      requestId: 'r2',
      status: 200,
      body: { success: true, status: 'held', replyId: expect.any(String) },
    });
    const unknown = await socket.reply('r2b', '0190a5c4-0000-7000-8000-0000000000ff', textReply('x'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, code: 'MESSAGE_NOT_FOUND' });

    const invalid = await socket.reply('r3', 'not-a-uuid', textReply('x'));
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'messageId' }] });

    socket.send({ type: 'reply', messageId, response: textReply('x') });
    const noId = await socket.waitForReplyResult(null);
    expect(noId.status).toBe(400);
    expect(socket.ended).toBe(false);
  });

  it('a JWT of POST /v1/auth/token opens the socket', async () => {
    const agent = await pairAgent(relay.url, 'ws-jwt-user');
    const key = (
      await request(relay.url).post(`/admin/api/accounts/${agent.accountId}/api-keys`).set(admin).expect(201)
    ).body as { apiKey: string; secretKey: string };
    const token = (
      await request(relay.url)
        .post('/v1/auth/token')
        .set('x-api-key', key.apiKey)
        .set('x-secret-key', key.secretKey)
        .send({})
        .expect(200)
    ).body.token as string;
    const socket = await open(token);
    expect(JSON.parse(socket.events[0].data)).toEqual({
      accountId: agent.accountId,
      sessionId: null,
      status: 'paired',
    });
    await sendMessage(relay.url, userMessage('ws-jwt-user', 'for the jwt'));
    expect(JSON.parse((await socket.waitFor('message')).data).normalized.text).toBe('for the jwt');
  });

  it('pings every SSE_HEARTBEAT_SECONDS; a client that answers none is dropped', async () => {
    const agent = await pairAgent(relay.url, 'ws-ping-user');
    const live = await open(agent.token);
    const silent = await connect({ token: agent.token, autoPong: false });
    await silent.waitFor('connected');
    await waitUntil(async () => live.pings >= 2, 5000);
    await silent.waitForEnd(6000);
    expect(silent.pings).toBeGreaterThanOrEqual(2);
    expect(live.ended).toBe(false);
    expect(live.events.filter((e) => e.event === 'ping')).toEqual([]);
  });

  it('a relay-token rotation ends the socket: pairing_expired, then close 4401', async () => {
    const agent = await pairAgent(relay.url, 'ws-rotate-user');
    const minted = await request(relay.url)
      .post(`/admin/api/accounts/${agent.accountId}/relay-token`)
      .set(admin)
      .expect(200);
    const socket = await open(minted.body.relayToken as string);
    await request(relay.url)
      .post(`/admin/api/accounts/${agent.accountId}/relay-token`)
      .set(admin)
      .expect(200);
    await socket.waitForEnd();
    expect(socket.dataOf('pairing_expired')).toEqual([{ reason: 'disconnected' }]);
    expect(socket.closeCode).toBe(4401);
  });

  it('too many streams: the replaced socket gets STREAM_REPLACED and 4429; a full address 4429', async () => {
    const agents = await Promise.all([0, 1, 2].map((i) => pairAgent(relay.url, `ws-cap-user-${i}`)));
    const first = await open(agents[0].token);
    clients.push(first);
    for (let i = 0; i < 3; i++) clients.push(await open(agents[0].token));
    await first.waitForEnd();
    expect(first.dataOf<{ code: string }>('error').map((e) => e.code)).toEqual(['STREAM_REPLACED']);
    expect(first.closeCode).toBe(4429);
    // 3 (agent 0) + 3 (agent 1) fill MAX_STREAMS_PER_IP (6).
    for (let i = 0; i < 3; i++) clients.push(await open(agents[1].token));
    const refused = await connect({ token: agents[2].token });
    await refused.waitForEnd();
    expect(refused.closeCode).toBe(4429);
    expect(refused.dataOf<{ code: string }>('error').map((e) => e.code)).toEqual(['TOO_MANY_STREAMS']);
    expect(refused.events.some((e) => e.event === 'connected')).toBe(false);
  });
});

describe('agent socket: slow consumers and shutdown (e2e)', () => {
  it('closes a socket that does not read past STREAM_MAX_BUFFER_BYTES with 4408; resume then gets the rest', async () => {
    const relay = await startRelay({
      STREAM_MAX_BUFFER_BYTES: String(64 * 1024),
      SSE_HEARTBEAT_SECONDS: '60',
    });
    try {
      const agent = await pairAgent(relay.url, 'ws-slow-user');
      const socket = await openSocketStream(relay.url, agent.token);
      const hub = relay.app.get(StreamHub);
      const raw = (socket.ws as unknown as { _socket: import('node:net').Socket })._socket;
      raw.pause();
      for (let i = 1; i <= 12; i++) await sendMessage(relay.url, bigMessage('ws-slow-user', `big ${i}`, 700));
      await waitUntil(async () => hub.size === 0, 10000);
      raw.resume();
      await socket.waitForEnd(10000);
      expect(socket.closeCode).toBe(4408);
      const seen = socket.events.filter((e) => e.event === 'message').map((e) => Number(e.id));
      const lastSeen = seen.length > 0 ? seen[seen.length - 1] : 0;
      expect(lastSeen).toBeLessThan(12);
      const resumed = await openSocketStream(relay.url, agent.token, lastSeen);
      const rest = await resumed.waitForCount('message', 12 - lastSeen, 20000);
      expect([...seen, ...rest.map((e) => Number(e.id))]).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      resumed.close();
    } finally {
      await relay.close();
    }
  });

  it('one "request completed" line per socket (when it closes, 101 with the close code) and per refusal', async () => {
    const relay = await startRelay({ LOG_LEVEL: 'info' });
    const root = PinoLogger.root;
    type Line = { level: string; fields: { req: { id: string }; res: { statusCode: number }; ws?: unknown } };
    const lines: Line[] = [];
    const spies = (['info', 'warn'] as const).map((level) =>
      jest.spyOn(root, level).mockImplementation(((fields: never, msg?: string) => {
        if (msg === 'request completed') lines.push({ level, fields });
      }) as never),
    );
    try {
      const agent = await pairAgent(relay.url, 'ws-log-user');
      lines.length = 0;
      const socket = await WsClient.connect(relay.url, {
        token: agent.token,
        headers: { 'X-Request-Id': 'socket-ok' },
      });
      await socket.waitFor('connected');
      expect(socket.headers['x-request-id']).toBe('socket-ok');
      expect(lines).toHaveLength(0);
      socket.ws.close(1000);
      await socket.waitForEnd();
      const refused = await WsClient.connect(relay.url, {
        token: 'f'.repeat(64),
        headers: { 'X-Request-Id': 'socket-denied' },
      });
      expect(refused.status).toBe(401);
      expect(refused.headers['x-request-id']).toBe('socket-denied');
      await waitUntil(async () => lines.length === 2);
    } finally {
      for (const spy of spies) spy.mockRestore();
      await relay.close();
    }
    const byId = Object.fromEntries(lines.map((l) => [l.fields.req.id, l]));
    expect(byId['socket-ok']).toEqual(expect.objectContaining({ level: 'info' }));
    expect(byId['socket-ok'].fields.res.statusCode).toBe(101);
    expect(byId['socket-ok'].fields.ws).toEqual({ closeCode: 1000 });
    expect(byId['socket-denied']).toEqual(expect.objectContaining({ level: 'warn' }));
    expect(byId['socket-denied'].fields.res.statusCode).toBe(401);
  });

  it('a live event is serialised once per process for SSE and WebSocket streams alike', async () => {
    const relay = await startRelay();
    const metric = async (name = 'relay_stream_event_serializations_total') => {
      const text = await relay.app.get(RelayMetrics).registry.metrics();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    const streams: Array<{ close(): void }> = [];
    try {
      const agent = await pairAgent(relay.url, 'ws-fanout-user');
      const sse = await openStream(relay.url, agent.token);
      const ws1 = await openSocketStream(relay.url, agent.token);
      const ws2 = await openSocketStream(relay.url, agent.token);
      streams.push(sse, ws1, ws2);
      const before = await metric();
      await sendMessage(relay.url, userMessage('ws-fanout-user', 'one for all'));
      const [a, b, c] = await Promise.all([sse, ws1, ws2].map((s) => s.waitFor('message')));
      expect(b.raw).toBe(c.raw);
      expect(JSON.parse(a.data)).toEqual(JSON.parse(b.data));
      expect((await metric()) - before).toBe(1);
      // Open streams and opens, by transport.
      expect(await metric('relay_open_streams_by_transport{transport="sse"}')).toBe(1);
      expect(await metric('relay_open_streams_by_transport{transport="ws"}')).toBe(2);
      expect(await metric('relay_streams_opened_total{transport="ws"}')).toBe(2);
    } finally {
      streams.forEach((s) => s.close());
      await relay.close();
    }
  });

  it('a socket outlives HTTP_REQUEST_TIMEOUT_MS (only receiving the upgrade request counts)', async () => {
    const relay = await startRelay({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '300' });
    let socket: WsClient | null = null;
    try {
      const agent = await pairAgent(relay.url, 'ws-timeout-user');
      socket = await openSocketStream(relay.url, agent.token);
      await new Promise((r) => setTimeout(r, 1500));
      expect(socket.ended).toBe(false);
      await sendMessage(relay.url, userMessage('ws-timeout-user', 'still open'));
      expect(JSON.parse((await socket.waitFor('message')).data).normalized.text).toBe('still open');
    } finally {
      socket?.close();
      await relay.close();
    }
  });

  it('closes open sockets with 1001 when the relay shuts down', async () => {
    const relay = await startRelay();
    let socket: WsClient | null = null;
    try {
      const agent = await pairAgent(relay.url, 'ws-shutdown-user');
      socket = await openSocketStream(relay.url, agent.token);
      await relay.close();
      await socket.waitForEnd();
      expect(socket.closeCode).toBe(1001);
    } finally {
      socket?.close();
      await relay.close();
    }
  });
});
