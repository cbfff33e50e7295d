import { createHmac } from 'node:crypto';
import request from 'supertest';
import { KO, WorksBotRegistry } from '@app/core';
import {
  createSession,
  expectErrorBody,
  FakeWorks,
  openStream,
  resetState,
  sql,
  SseClient,
  waitUntil,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

const SECRETS_KEY = 'cd'.repeat(32);
const BOT_ID = '3000001';
const BOT_SECRET = 'works-bot-secret-for-callbacks';
const DISABLED_BOT = '3000002';

interface Event {
  type: string;
  source: { userId: string; channelId?: string; domainId?: number };
  issuedTime: string;
  content?: Record<string, unknown>;
}

let issued = 0;
function event(
  userId: string,
  content: Record<string, unknown> | undefined,
  extra: Partial<Event> = {},
): Event {
  return {
    type: 'message',
    source: { userId, domainId: 10000001 },
    issuedTime: new Date(Date.UTC(2026, 10, 30, 4, 0, 0, ++issued)).toISOString(),
    ...(content ? { content } : {}),
    ...extra,
  };
}
const text = (userId: string, t: string, extra: Partial<Event> = {}) =>
  event(userId, { type: 'text', text: t }, extra);

describe('Naver Works callback (e2e, works-channel.md §2)', () => {
  let fake: FakeWorks;
  let relay: RunningRelay;

  const sign = (raw: string, secret = BOT_SECRET) =>
    createHmac('sha256', secret).update(raw).digest('base64');
  const post = (body: unknown, headers: Record<string, string> = {}) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return request(relay.url)
      .post('/works/callback')
      .set('Content-Type', 'application/json')
      .set({ 'X-WORKS-BotId': BOT_ID, 'X-WORKS-Signature': sign(raw), ...headers })
      .send(raw);
  };
  const textsTo = (targetId: string) =>
    fake.sends.filter((s) => s.targetId === targetId && s.status === 201).map((s) => s.content.text);
  const stored = (conversationKey: string) =>
    sql<{ n: number }>('SELECT count(*)::int AS n FROM inbound_messages WHERE conversation_key = $1', [
      conversationKey,
    ]).then((rows) => rows[0].n);

  /** Pairs a Works conversation through the callback, as a user would: `/pair CODE`. */
  async function pair(
    userId: string,
    extra: Partial<Event> = {},
  ): Promise<{ token: string; stream: SseClient }> {
    const session = await createSession(relay.url);
    const stream = await openStream(relay.url, session.sessionToken);
    await post(text(userId, `/pair ${session.pairingCode}`, extra)).expect(200, {});
    await stream.waitFor('pairing_complete');
    return { token: session.sessionToken, stream };
  }

  beforeAll(async () => {
    await resetState();
    fake = await FakeWorks.start();
    relay = await startRelay({
      WORKS_API_BASE_URL: fake.apiBaseUrl,
      WORKS_AUTH_URL: fake.authUrl,
      RELAY_SECRETS_KEY: SECRETS_KEY,
    });
    const registry = relay.app.get(WorksBotRegistry);
    for (const botId of [BOT_ID, DISABLED_BOT]) {
      await fake.registerBot(registry, { botId, botSecret: BOT_SECRET, clientId: `client-${botId}` });
    }
    await registry.update(DISABLED_BOT, { enabled: false });
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('refuses an unknown bot (404), a missing or wrong signature (401) and a disabled bot (403), storing nothing', async () => {
    const body = text('stranger', 'hello');
    expectErrorBody(await post(body, { 'X-WORKS-BotId': '999' }), 404, 'BOT_NOT_FOUND');
    expectErrorBody(await post(body, { 'X-WORKS-Signature': '' }), 401, 'INVALID_SIGNATURE');
    expectErrorBody(await post(body, { 'X-WORKS-Signature': sign('{}') }), 401, 'INVALID_SIGNATURE');
    expectErrorBody(
      await post(body, { 'X-WORKS-Signature': sign(JSON.stringify(body), 'x') }),
      401,
      'INVALID_SIGNATURE',
    );
    // Authentication comes before the body is judged: a bad body with a bad signature is 401, not 400.
    expectErrorBody(await post('not json', { 'X-WORKS-Signature': 'AAAA' }), 401, 'INVALID_SIGNATURE');
    const disabled = JSON.stringify(body);
    expectErrorBody(
      await post(disabled, { 'X-WORKS-BotId': DISABLED_BOT, 'X-WORKS-Signature': sign(disabled) }),
      403,
      'BOT_DISABLED',
    );
    expect(await stored(`works:${BOT_ID}:stranger`)).toBe(0);
  });

  it('answers a malformed event 400 naming the fields, once authenticated', async () => {
    const res = await post({ type: 'nonsense', source: {}, issuedTime: 'yesterday' });
    expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'required' });
    const fields = (res.body.details as Array<{ field: string }>).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['type', 'source.userId', 'issuedTime']));
  });

  it('tells an unpaired user how to pair, and answers relay commands, through the send API', async () => {
    await post(text('newcomer', 'hello?')).expect(200, {});
    await post(text('newcomer', '/help')).expect(200, {});
    await waitUntil(() => textsTo('newcomer').length === 2);
    expect(textsTo('newcomer')).toEqual([KO.notPaired, KO.help]);
    expect(await stored(`works:${BOT_ID}:newcomer`)).toBe(0);
  });

  it('pairs with /pair CODE, then stores and streams messages with channel "works" and the whole body, once each', async () => {
    const { stream } = await pair('works-user');
    await waitUntil(() => textsTo('works-user').includes(KO.pairSuccess));
    const body = text('works-user', '안녕하세요 Works');
    await post(body).expect(200, {});
    // Works retries a callback it thinks failed: the same body (same issuedTime) is stored once.
    await post(body).expect(200, {});
    const message = await stream.waitFor('message');
    const data = JSON.parse(message.data);
    expect(Object.keys(data)).toEqual([
      'id',
      'conversationKey',
      'channel',
      'normalized',
      'createdAt',
      'payload',
    ]);
    expect(data).toMatchObject({
      conversationKey: `works:${BOT_ID}:works-user`,
      channel: 'works',
      normalized: { userId: 'works-user', text: '안녕하세요 Works', channelId: BOT_ID },
      payload: body,
    });
    expect(await stored(`works:${BOT_ID}:works-user`)).toBe(1);
    // The same text later (another issuedTime) is another message.
    await post(text('works-user', '안녕하세요 Works')).expect(200, {});
    await stream.waitFor((e) => e.event === 'message' && JSON.parse(e.data).id !== data.id);
    expect(await stored(`works:${BOT_ID}:works-user`)).toBe(2);
    stream.close();
  });

  it('makes a room one conversation, names non-text content in normalized.attachments, records join/leave without streaming them', async () => {
    const room = { channelId: 'room-7' };
    const { stream } = await pair('room-member', {
      source: { userId: 'room-member', ...room },
    } as Partial<Event>);
    const image = event('someone-else', {
      type: 'image',
      originalContentUrl: 'https://works.example/i.png',
      fileId: 'f-1',
    });
    image.source = { userId: 'someone-else', ...room };
    const joined = {
      type: 'joined',
      source: { userId: 'someone-else', ...room },
      issuedTime: new Date().toISOString(),
    };
    await post(joined).expect(200, {});
    await post(joined).expect(200, {});
    await post(image).expect(200, {});
    const message = JSON.parse((await stream.waitFor('message')).data);
    expect(message).toMatchObject({
      conversationKey: `works:${BOT_ID}:channel:room-7`,
      channel: 'works',
      normalized: {
        userId: 'someone-else',
        text: '',
        channelId: 'room-7',
        attachments: [{ type: 'image', url: 'https://works.example/i.png', fileId: 'f-1' }],
      },
    });
    const events = await sql<{ type: string; conversation_key: string }>(
      'SELECT type, conversation_key FROM channel_events WHERE channel = $1',
      ['works'],
    );
    expect(events).toEqual([{ type: 'joined', conversation_key: `works:${BOT_ID}:channel:room-7` }]);
    expect(stream.events.filter((e) => e.event === 'message')).toHaveLength(1);
    // The room's pairing answer went to the room, not to the user.
    expect(fake.sends.some((s) => s.kind === 'channel' && s.targetId === 'room-7')).toBe(true);
    stream.close();
  });
});
