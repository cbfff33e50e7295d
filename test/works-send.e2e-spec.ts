import { WorksBotRegistry, type WorksTarget } from '@app/core';
import {
  FakeWorks,
  openStream,
  pairAgent,
  PairedAgent,
  resetState,
  sql,
  SseClient,
  waitUntil,
} from '@app/testing';
import { WorksContent, WorksSender } from '@app/works';
import { RunningRelay, startRelay } from './support/test-app';

interface SendRow {
  id: string;
  seq: string;
  status: string;
  attempts: number;
  last_http_status: number | null;
  error: string | null;
  sent_at: Date | null;
  content: { text?: string };
}

function rowsOf(ids: string[]): Promise<SendRow[]> {
  return sql<SendRow>(
    `SELECT id, seq, status, attempts, last_http_status, error, sent_at, content
       FROM works_sends WHERE id = ANY($1::uuid[]) ORDER BY seq`,
    [ids],
  );
}

const SECRETS_KEY = 'ab'.repeat(32);
const text = (t: string): WorksContent => ({ type: 'text', text: t });

describe('Naver Works send path (e2e, against a fake Works API)', () => {
  let fake: FakeWorks;
  let relay: RunningRelay;
  let sender: WorksSender;
  let agent: PairedAgent;
  let botN = 0;

  /**
   * A fresh bot with its own client app (so that each test starts without a cached token), registered through the
   * bot registry the relay's worker reads (`works_bots`, secrets sealed with RELAY_SECRETS_KEY).
   */
  function newBot(clientId = `client-${++botN}-${Date.now()}`) {
    return fake.registerBot(relay.app.get(WorksBotRegistry), {
      botId: `${2_000_000 + ++botN}`,
      botSecret: 'bot-secret',
      clientId,
    });
  }

  function start(): Promise<RunningRelay> {
    return startRelay({
      WORKS_API_BASE_URL: fake.apiBaseUrl,
      WORKS_AUTH_URL: fake.authUrl,
      WORKS_SEND_RETRY_SECONDS: '30',
      RELAY_SECRETS_KEY: SECRETS_KEY,
    });
  }

  const sentTo = (botId: string) => fake.sends.filter((s) => s.botId === botId && s.status === 201);

  beforeAll(async () => {
    await resetState();
    fake = await FakeWorks.start();
    relay = await start();
    sender = relay.app.get(WorksSender);
    agent = await pairAgent(relay.url, 'works-send-agent');
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('sends each message with a service-account token: 201, recorded as sent, one token request', async () => {
    const bot = await newBot();
    const target: WorksTarget = { botId: bot.botId, kind: 'user', id: 'user-1' };
    const image: WorksContent = {
      type: 'image',
      previewImageUrl: 'https://img.example/a.png',
      originalContentUrl: 'https://img.example/a.png',
    };
    const sends = await sender.send(target, [text('hello'), image], { accountId: agent.accountId });
    expect(sends.map((s) => s.conversationKey)).toEqual([
      `works:${bot.botId}:user-1`,
      `works:${bot.botId}:user-1`,
    ]);
    await waitUntil(() => sentTo(bot.botId).length === 2);
    const [first, second] = sentTo(bot.botId);
    expect(first).toMatchObject({
      kind: 'user',
      targetId: 'user-1',
      content: { type: 'text', text: 'hello' },
    });
    expect(second.content).toEqual(image);
    expect(fake.tokenRequestsOf(bot.clientId)).toHaveLength(1);
    expect(first.token).toBe(fake.tokenRequestsOf(bot.clientId)[0].issued);
    await waitUntil(async () => (await rowsOf(sends.map((s) => s.id))).every((r) => r.status === 'sent'));
    for (const row of await rowsOf(sends.map((s) => s.id))) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1, last_http_status: 201, error: null });
      expect(row.sent_at).not.toBeNull();
    }
    // A room goes to the channel endpoint.
    await sender.send({ botId: bot.botId, kind: 'channel', id: 'room-9' }, [text('to the room')], {
      accountId: agent.accountId,
    });
    await waitUntil(() => sentTo(bot.botId).length === 3);
    expect(sentTo(bot.botId)[2]).toMatchObject({ kind: 'channel', targetId: 'room-9' });
  });

  it('keeps the order of each conversation under concurrency and latency', async () => {
    const bot = await newBot();
    fake.latencyMs = 40;
    try {
      const one: WorksTarget = { botId: bot.botId, kind: 'user', id: 'sequential' };
      const room: WorksTarget = { botId: bot.botId, kind: 'channel', id: 'concurrent' };
      const concurrent = Promise.all(
        Array.from({ length: 6 }, (_, call) =>
          sender.send(room, [text(`c${call}-0`), text(`c${call}-1`), text(`c${call}-2`)], {
            accountId: agent.accountId,
          }),
        ),
      );
      for (let i = 0; i < 10; i++) await sender.send(one, [text(`s${i}`)], { accountId: agent.accountId });
      const roomSends = (await concurrent).flat();
      await waitUntil(() => sentTo(bot.botId).length === 28, 20000);
      const texts = (targetId: string) =>
        sentTo(bot.botId)
          .filter((s) => s.targetId === targetId)
          .map((s) => s.content.text as string);
      expect(texts('sequential')).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`));
      // The room's order is its sequence numbers' order; each call's messages are consecutive and in order.
      const bySeq = [...roomSends]
        .sort((a, b) => a.seq - b.seq)
        .map((s) => (s.content as { text: string }).text);
      expect(texts('concurrent')).toEqual(bySeq);
      for (let i = 0; i < bySeq.length; i += 3) {
        const call = bySeq[i].split('-')[0];
        expect(bySeq.slice(i, i + 3)).toEqual([`${call}-0`, `${call}-1`, `${call}-2`]);
      }
    } finally {
      fake.latencyMs = 0;
    }
  });

  it('waits Retry-After on 429, then sends; the messages after it wait their turn', async () => {
    const bot = await newBot();
    fake.answerNext({ status: 429, retryAfter: '1', body: { code: 'TOO_MANY_REQUESTS' } });
    const target: WorksTarget = { botId: bot.botId, kind: 'user', id: 'busy' };
    const sends = await sender.send(target, [text('first'), text('second')], { accountId: agent.accountId });
    await waitUntil(() => sentTo(bot.botId).length === 2);
    const all = fake.sends.filter((s) => s.botId === bot.botId);
    expect(all.map((s) => [s.status, s.content.text])).toEqual([
      [429, 'first'],
      [201, 'first'],
      [201, 'second'],
    ]);
    expect(all[1].at - all[0].at).toBeGreaterThanOrEqual(900);
    const rows = await rowsOf(sends.map((s) => s.id));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 2],
      ['sent', 1],
    ]);
  });

  it('retries 5xx with backoff, then sends', async () => {
    const bot = await newBot();
    fake.answerNext({ status: 500 }, { status: 503 });
    const sends = await sender.send({ botId: bot.botId, kind: 'user', id: 'flaky' }, [text('eventually')], {
      accountId: agent.accountId,
    });
    await waitUntil(() => sentTo(bot.botId).length === 1, 15000);
    expect(fake.sends.filter((s) => s.botId === bot.botId).map((s) => s.status)).toEqual([500, 503, 201]);
    const [row] = await rowsOf([sends[0].id]);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, last_http_status: 201 });
  });

  it('sends a message whose job was lost (Redis lost it, or never took it): the sweep queues it again', async () => {
    const bot = await newBot();
    // A send stored while Redis was away: its row is in PostgreSQL, no job in the queue.
    const [row] = await sql<{ id: string }>(
      `INSERT INTO works_sends (id, account_id, bot_id, conversation_key, target_kind, target_id, seq, content,
                                created_at)
       VALUES (gen_random_uuid(), $1, $2, $3, 'user', 'lost-user', 1, $4::jsonb, now() - interval '1 minute')
       RETURNING id`,
      [agent.accountId, bot.botId, `works:${bot.botId}:lost-user`, JSON.stringify(text('lost and found'))],
    );
    await waitUntil(() => sentTo(bot.botId).length === 1, 15000);
    expect(sentTo(bot.botId)[0]).toMatchObject({ targetId: 'lost-user', content: text('lost and found') });
    await waitUntil(async () => (await rowsOf([row.id]))[0].status === 'sent');
  }, 30_000);

  it('fails a 400 at once, tells the account stream, and sends the next message', async () => {
    const bot = await newBot();
    const stream: SseClient = await openStream(relay.url, agent.token);
    try {
      fake.answerNext({ status: 400, body: { code: 'INVALID_PARAMETER', description: 'content.text' } });
      const sends = await sender.send(
        { botId: bot.botId, kind: 'user', id: 'refused' },
        [text('bad'), text('good')],
        { accountId: agent.accountId, messageId: null },
      );
      const event = await stream.waitFor((e) => e.event === 'error');
      const data = JSON.parse(event.data) as { code: string; message: string; messageId: string };
      expect(data).toMatchObject({ code: 'WORKS_SEND_FAILED', messageId: sends[0].id });
      expect(data.message).toContain('HTTP 400');
      await waitUntil(() => sentTo(bot.botId).length === 1);
      expect(sentTo(bot.botId)[0].content.text).toBe('good');
      const rows = await rowsOf(sends.map((s) => s.id));
      expect(rows[0]).toMatchObject({ status: 'failed', attempts: 1, last_http_status: 400 });
      expect(rows[0].error).toContain('INVALID_PARAMETER');
      expect(fake.sends.filter((s) => s.botId === bot.botId)).toHaveLength(2);
    } finally {
      stream.close();
    }
  });

  it('renews the token once on 401 and sends again', async () => {
    const bot = await newBot();
    await sender.send({ botId: bot.botId, kind: 'user', id: 'u' }, [text('warm up')], {
      accountId: agent.accountId,
    });
    await waitUntil(() => sentTo(bot.botId).length === 1);
    fake.answerNext({ status: 401 });
    const sends = await sender.send({ botId: bot.botId, kind: 'user', id: 'u' }, [text('after 401')], {
      accountId: agent.accountId,
    });
    await waitUntil(() => sentTo(bot.botId).length === 2);
    const tokens = fake.tokenRequestsOf(bot.clientId).map((r) => r.issued);
    expect(tokens).toHaveLength(2);
    const all = fake.sends.filter((s) => s.botId === bot.botId);
    expect(all.map((s) => [s.status, s.token])).toEqual([
      [201, tokens[0]],
      [401, tokens[0]],
      [201, tokens[1]],
    ]);
    const [row] = await rowsOf([sends[0].id]);
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('shares one token between two relays and renews it once across them', async () => {
    const second = await start();
    try {
      const bot = await newBot();
      const other = second.app.get(WorksSender);
      const burst = (label: string) =>
        Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? sender : other).send(
              { botId: bot.botId, kind: 'user', id: `u${i}` },
              [text(`${label}${i}`)],
              { accountId: agent.accountId },
            ),
          ),
        );
      await burst('a');
      await waitUntil(() => sentTo(bot.botId).length === 8);
      expect(fake.tokenRequestsOf(bot.clientId)).toHaveLength(1);
      // Works stops accepting the token: every replica's sends see 401; one renewal serves them all.
      fake.revokeTokens();
      await burst('b');
      await waitUntil(() => sentTo(bot.botId).length === 16);
      expect(fake.tokenRequestsOf(bot.clientId)).toHaveLength(2);
      const renewed = fake.tokenRequestsOf(bot.clientId)[1].issued;
      expect(
        sentTo(bot.botId)
          .slice(8)
          .every((s) => s.token === renewed),
      ).toBe(true);
    } finally {
      await second.close();
    }
  });
});
