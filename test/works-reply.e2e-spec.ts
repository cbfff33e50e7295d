import { randomUUID } from 'node:crypto';
import {
  InboundMessageStore,
  normalizePairingCode,
  WorksBotRegistry,
  type WorksTarget,
  worksConversationKey,
} from '@app/core';
import { PairingService } from '@app/pairing';
import {
  createSession,
  expectErrorBody,
  FakeWorks,
  openStream,
  pairAgent,
  postReply,
  resetState,
  sendMessage,
  sql,
  SseClient,
  textReply,
  userMessage,
  waitUntil,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

const SECRETS_KEY = 'cd'.repeat(32);

interface WorksAgent {
  token: string;
  accountId: string;
  target: WorksTarget;
  conversationKey: string;
}

/**
 * `POST /openclaw/reply` for a Naver Works message (works-channel.md §3): every reply is sent at once, in order,
 * through the Works send path to a fake Works API; Kakao's callback window and 409s do not apply.
 */
describe('agent replies to a Naver Works message (e2e, against a fake Works API)', () => {
  let fake: FakeWorks;
  let relay: RunningRelay;
  let botId: string;
  let conversations = 0;
  const streams: SseClient[] = [];

  /** A Works conversation paired to a fresh agent, as `/pair CODE` from Works would pair it. */
  async function pairWorks(kind: WorksTarget['kind']): Promise<WorksAgent> {
    const session = await createSession(relay.url);
    const target: WorksTarget = { botId, kind, id: `${kind}-${++conversations}-${Date.now()}` };
    const conversationKey = worksConversationKey(target);
    const outcome = await relay.app
      .get(PairingService)
      .pair(normalizePairingCode(session.pairingCode) ?? '', {
        channelId: kind === 'channel' ? target.id : botId,
        userId: kind === 'user' ? target.id : 'room-member',
        conversationKey,
      });
    if (!outcome.ok) throw new Error('pairing failed');
    return { token: session.sessionToken, accountId: outcome.accountId, target, conversationKey };
  }

  /** A stored message of the Works conversation (as the Works inbound adapter stores one). */
  async function worksMessage(agent: WorksAgent, text = `question ${randomUUID()}`): Promise<string> {
    const payload = {
      type: 'message',
      source: {
        userId: 'sender-1',
        channelId: agent.target.kind === 'channel' ? agent.target.id : undefined,
      },
      issuedTime: new Date().toISOString(),
      content: { type: 'text', text },
    };
    const outcome = await relay.app.get(InboundMessageStore).insertQueued({
      channel: 'works',
      conversationKey: agent.conversationKey,
      payload,
      normalized: {
        userId: 'sender-1',
        text,
        channelId: agent.target.kind === 'channel' ? agent.target.id : botId,
      },
      callbackUrl: null,
      replyDeadline: new Date(Date.now() + 55_000),
    });
    if (outcome.kind !== 'created') throw new Error(`message not stored: ${outcome.kind}`);
    return outcome.message.id;
  }

  const sentTo = (target: WorksTarget) =>
    fake.sends.filter((s) => s.botId === target.botId && s.kind === target.kind && s.targetId === target.id);

  async function inboundStatus(messageId: string) {
    const [row] = await sql<{ status: string; replied_at: Date | null }>(
      `SELECT status, replied_at FROM inbound_messages WHERE id = $1`,
      [messageId],
    );
    return row;
  }

  beforeAll(async () => {
    await resetState();
    fake = await FakeWorks.start();
    relay = await startRelay({
      WORKS_API_BASE_URL: fake.apiBaseUrl,
      WORKS_AUTH_URL: fake.authUrl,
      WORKS_SEND_RETRY_SECONDS: '30',
      RELAY_SECRETS_KEY: SECRETS_KEY,
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
    });
    botId = `${3_000_000 + Math.floor(Math.random() * 1_000_000)}`;
    await fake.registerBot(relay.app.get(WorksBotRegistry), {
      botId,
      botSecret: 'bot-secret',
      clientId: `reply-client-${Date.now()}`,
    });
  });

  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('converts a SkillResponse into Works messages, sent in order; 200 accepted with the first send as replyId', async () => {
    const agent = await pairWorks('user');
    const messageId = await worksMessage(agent);
    const res = await postReply(relay.url, agent.token, {
      messageId,
      response: {
        version: '2.0',
        template: {
          outputs: [
            { simpleText: { text: '첫째' } },
            { simpleImage: { imageUrl: 'https://img.example/a.png', altText: 'a' } },
            {
              basicCard: {
                title: 'Card',
                description: 'with a link',
                buttons: [{ label: 'Open', action: 'webLink', webLinkUrl: 'https://example.com' }],
              },
            },
          ],
          quickReplies: [{ label: 'More', action: 'message', messageText: 'more please' }],
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, status: 'accepted', replyId: expect.any(String) });
    const [first] = await sql<{ id: string; inbound_message_id: string; account_id: string }>(
      `SELECT id, inbound_message_id, account_id FROM works_sends WHERE conversation_key = $1 ORDER BY seq LIMIT 1`,
      [agent.conversationKey],
    );
    expect(first).toEqual({
      id: res.body.replyId,
      inbound_message_id: messageId,
      account_id: agent.accountId,
    });
    await waitUntil(() => sentTo(agent.target).length === 3);
    expect(sentTo(agent.target).map((s) => [s.status, s.content])).toEqual([
      [201, { type: 'text', text: '첫째' }],
      [
        201,
        {
          type: 'image',
          previewImageUrl: 'https://img.example/a.png',
          originalContentUrl: 'https://img.example/a.png',
        },
      ],
      [
        201,
        {
          type: 'button_template',
          contentText: 'Card\nwith a link',
          actions: [{ type: 'uri', label: 'Open', uri: 'https://example.com' }],
          quickReply: { items: [{ action: { type: 'message', label: 'More', text: 'more please' } }] },
        },
      ],
    ]);
    expect(await inboundStatus(messageId)).toMatchObject({ status: 'replied', replied_at: expect.any(Date) });
    // Not the Kakao path: no coalesced outbound row.
    expect(await sql(`SELECT 1 FROM outbound_messages WHERE inbound_message_id = $1`, [messageId])).toEqual(
      [],
    );
  });

  it('sends {"works": …} as is', async () => {
    const agent = await pairWorks('user');
    const messageId = await worksMessage(agent);
    const content = { type: 'sticker', packageId: '789', stickerId: '10855' };
    await postReply(relay.url, agent.token, { messageId, response: { works: content } }).expect(200);
    await waitUntil(() => sentTo(agent.target).length === 1);
    expect(sentTo(agent.target)[0]).toMatchObject({ status: 201, content });
  });

  it('accepts a second and a late reply to one message (no 409): each 200 accepted, all sent in order', async () => {
    const agent = await pairWorks('user');
    const messageId = await worksMessage(agent);
    const replies: string[] = [];
    for (const text of ['one', 'two']) {
      const res = await postReply(relay.url, agent.token, { messageId, response: textReply(text) }).expect(
        200,
      );
      expect(res.body.status).toBe('accepted');
      replies.push(res.body.replyId as string);
    }
    // Past the deadline Kakao would have: still accepted.
    await sql(`UPDATE inbound_messages SET reply_deadline = now() - interval '1 hour' WHERE id = $1`, [
      messageId,
    ]);
    const late = await postReply(relay.url, agent.token, {
      messageId,
      response: { works: { type: 'text', text: 'three' } },
    }).expect(200);
    replies.push(late.body.replyId as string);
    expect(new Set(replies).size).toBe(3);
    await waitUntil(() => sentTo(agent.target).length === 3);
    expect(sentTo(agent.target).map((s) => s.content.text)).toEqual(['one', 'two', 'three']);
  });

  it('answers a room on its channel endpoint', async () => {
    const agent = await pairWorks('channel');
    const messageId = await worksMessage(agent);
    await postReply(relay.url, agent.token, { messageId, response: textReply('to the room') }).expect(200);
    await waitUntil(() => sentTo(agent.target).length === 1);
    expect(sentTo(agent.target)[0]).toMatchObject({
      botId,
      kind: 'channel',
      targetId: agent.target.id,
      content: { type: 'text', text: 'to the room' },
    });
  });

  it("another account's token gets the same 404 as an unknown message, and nothing is sent", async () => {
    const owner = await pairWorks('user');
    const messageId = await worksMessage(owner);
    const other = await pairWorks('user');
    const foreign = await postReply(relay.url, other.token, { messageId, response: textReply('x') });
    const unknown = await postReply(relay.url, other.token, {
      messageId: randomUUID(),
      response: textReply('x'),
    });
    expectErrorBody(foreign, 404, 'MESSAGE_NOT_FOUND');
    expectErrorBody(unknown, 404, 'MESSAGE_NOT_FOUND');
    expect(foreign.body).toEqual(unknown.body);
    expect(await sql(`SELECT 1 FROM works_sends WHERE inbound_message_id = $1`, [messageId])).toEqual([]);
    expect(await inboundStatus(messageId)).toMatchObject({ status: 'queued', replied_at: null });
  });

  it('bad Works content is 400 VALIDATION_ERROR, nothing sent', async () => {
    const agent = await pairWorks('user');
    const messageId = await worksMessage(agent);
    for (const response of [
      { works: 'hello' },
      { works: { text: 'no type' } },
      { works: { type: 7 } },
      { works: [] },
    ]) {
      const res = await postReply(relay.url, agent.token, { messageId, response });
      expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'required', message: 'works' });
    }
    expect(await sql(`SELECT 1 FROM works_sends WHERE inbound_message_id = $1`, [messageId])).toEqual([]);
  });

  it('{"works": …} to a Kakao message is 400 VALIDATION_ERROR; the Kakao message stays unanswered', async () => {
    const userKey = `kakao-user-${Date.now()}`;
    const agent = await pairAgent(relay.url, userKey);
    const stream = await openStream(relay.url, agent.token);
    streams.push(stream);
    await sendMessage(
      relay.url,
      userMessage(userKey, 'kakao question', `http://127.0.0.1:9/cb/${randomUUID()}`),
    );
    const messageId = JSON.parse((await stream.waitFor('message')).data).id as string;
    const res = await postReply(relay.url, agent.token, {
      messageId,
      response: { works: { type: 'text', text: 'x' } },
    });
    expectErrorBody(res, 400, 'VALIDATION_ERROR', { details: 'required', message: 'works' });
    expect(await sql(`SELECT 1 FROM outbound_messages WHERE inbound_message_id = $1`, [messageId])).toEqual(
      [],
    );
  });
});
