import { Logger } from '@nestjs/common';
import { parseConfig } from '@app/config';
import {
  ChannelAdapter,
  ChannelAnswer,
  ChannelEvent,
  ChannelEventStore,
  FixedClock,
  ForbiddenError,
  InboundMessage,
  InboundOutcome,
  KO,
  OverloadedError,
} from '@app/core';
import type { ChannelEnvelope, RateLimiter, StreamEventPublisher } from '@app/messaging';
import type {
  ConversationStore,
  InboundMessageStore,
  InsertOutcome,
  NewInboundMessage,
  StoredMessage,
} from '@app/core';
import type { BotAccess, BotBindings, PairingService } from '@app/pairing';
import { RelayMetrics } from '@app/platform';
import type { InboundQueueProducer } from './inbound-queue.producer';
import { InboundService } from './inbound.service';

/** An adapter for a made-up messenger: answers with the outcome itself, hands off stored messages at once. */
class RecordingAdapter extends ChannelAdapter<{ text: string }> {
  readonly channel = 'works';
  readonly path = '/test/hook';
  readonly bodyLimitBytes = 1024;
  refuse: Error | null = null;
  timedOut = false;
  outcomes: InboundOutcome[] = [];

  authenticate(): void {}

  parse(body: unknown): InboundMessage<{ text: string }> {
    const payload = body as { text: string };
    return {
      channel: 'works',
      botId: 'bot',
      conversation: { channelId: 'bot', userId: 'user', conversationKey: 'works:bot:user' },
      text: payload.text,
      normalized: { userId: 'user', text: payload.text, channelId: 'bot' },
      payload,
      replyMode: 'callback',
      callbackUrl: null,
      replyWindowMs: 60_000,
    };
  }

  admit(): void {
    if (this.refuse) throw this.refuse;
  }

  async answer(_message: InboundMessage, outcome: InboundOutcome): Promise<ChannelAnswer> {
    this.outcomes.push(outcome);
    if (outcome.kind === 'stored') await outcome.handOff();
    return { status: 200, body: outcome, replyTimedOut: this.timedOut || undefined };
  }
}

const NOW = Date.UTC(2026, 10, 30, 3, 0, 0);

function harness() {
  const clock = new FixedClock(NOW);
  const config = parseConfig({ WEBHOOK_USER_MESSAGES_PER_MINUTE: '2' });
  const inserted: NewInboundMessage[] = [];
  let insert: (input: NewInboundMessage) => Promise<InsertOutcome> = async (input) => ({
    kind: 'created',
    message: {
      id: 'm-1',
      accountId: 'acct',
      seq: 7,
      channel: input.channel,
      conversationKey: input.conversationKey,
      payload: input.payload,
      normalized: input.normalized,
      callbackUrl: input.callbackUrl,
      createdAt: new Date(0),
    },
  });
  const hits = new Map<string, number>();
  let limiterDown = false;
  const limiter = {
    hit: async (bucket: string, key: string, limit: number) => {
      if (limiterDown) throw new Error('redis away');
      const n = (hits.get(`${bucket}:${key}`) ?? 0) + 1;
      hits.set(`${bucket}:${key}`, n);
      return { allowed: n <= limit, remaining: Math.max(0, limit - n), resetMs: 1000 };
    },
  };
  const published: ChannelEnvelope[] = [];
  const recorded: ChannelEvent[] = [];
  let publishDown = false;
  const enqueued: StoredMessage[] = [];
  let pairedAt: Date | null = null;
  let pairedTo = 'acct';
  const pairCalls: string[] = [];
  const bindCalls: Array<{ conversationKey: string; accountId: string }> = [];
  let access: BotAccess = { kind: 'pairing' };
  let onBind: () => void = () => undefined;
  const accessAsked: string[] = [];
  const metrics = new RelayMetrics();
  const service = new InboundService(
    config,
    {
      findByKey: async () => (pairedAt ? { state: 'paired', pairedAt, accountId: pairedTo } : null),
    } as unknown as ConversationStore,
    {
      insertQueued: (input: NewInboundMessage) => {
        inserted.push(input);
        return insert(input);
      },
    } as unknown as InboundMessageStore,
    {
      pair: async (code: string) => {
        pairCalls.push(code);
        return code === 'ABCD2345' ? { ok: true } : { ok: false, reason: 'invalid_code' };
      },
      unpair: async () => ({ ok: pairedAt !== null }),
      bindConversation: async (identity: { conversationKey: string }, accountId: string) => {
        bindCalls.push({ conversationKey: identity.conversationKey, accountId });
        onBind();
      },
    } as unknown as PairingService,
    {
      enqueue: async (message: StoredMessage) => {
        enqueued.push(message);
      },
    } as unknown as InboundQueueProducer,
    limiter as unknown as RateLimiter,
    metrics,
    {
      toAccount: async (_account: string, envelope: ChannelEnvelope) => {
        if (publishDown) throw new Error('publish refused');
        published.push(envelope);
        return 1;
      },
    } as unknown as StreamEventPublisher,
    clock,
    {
      record: async (event: ChannelEvent) => {
        recorded.push(event);
        return true;
      },
    } as ChannelEventStore,
    {
      accessFor: (channel: string, botId: string, userId: string) => {
        accessAsked.push(`${channel}/${botId}/${userId}`);
        return access;
      },
    } as unknown as BotBindings,
  );
  const adapter = new RecordingAdapter();
  const handle = (text: string) => service.handle(adapter, adapter.parse({ text }));
  const results = async () =>
    Object.fromEntries((await metrics.webhookRequests.get()).values.map((v) => [v.labels.result, v.value]));
  return {
    service,
    adapter,
    handle,
    inserted,
    published,
    recorded,
    enqueued,
    pairCalls,
    bindCalls,
    accessAsked,
    results,
    setAccess: (a: BotAccess) => (access = a),
    setOnBind: (fn: () => void) => (onBind = fn),
    setPairedTo: (accountId: string) => (pairedTo = accountId),
    setInsert: (fn: typeof insert) => (insert = fn),
    setPairedAt: (date: Date | null) => (pairedAt = date),
    limiterDown: () => (limiterDown = true),
    publishDown: () => (publishDown = true),
  };
}

describe('InboundService', () => {
  beforeAll(() => {
    // The outage cases log, as they should; not into the test output.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  it('answers /help with the core text, stores nothing and counts a command', async () => {
    const h = harness();
    expect((await h.handle(' /HELP ')).body).toEqual({ kind: 'command', text: KO.help });
    expect(h.inserted).toEqual([]);
    expect(await h.results()).toEqual({ command: 1 });
  });

  it.each<[string, string, string[]]>([
    ['/pair', KO.pairUsage, []],
    ['/pair 1234', KO.pairInvalid, []],
    ['/pair abcd-2345', KO.pairSuccess, ['ABCD2345']],
    ['/pair ABCD-2346', KO.pairInvalid, ['ABCD2346']],
  ])('answers %p with the pairing texts', async (text, answer, calls) => {
    const h = harness();
    expect((await h.handle(text)).body).toEqual({ kind: 'command', text: answer });
    expect(h.pairCalls).toEqual(calls);
  });

  it('limits /pair attempts per conversation (5 per window)', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) await h.handle('/pair WXYZ-2345');
    expect((await h.handle('/pair ABCD-2345')).body).toEqual({ kind: 'command', text: KO.pairTooMany });
    expect(h.pairCalls).toHaveLength(5);
  });

  it('answers /status and /unpair from the conversation', async () => {
    const h = harness();
    expect((await h.handle('/status')).body).toEqual({ kind: 'command', text: KO.statusUnpaired });
    expect((await h.handle('/unpair')).body).toEqual({ kind: 'command', text: KO.unpairNone });
    h.setPairedAt(new Date('2025-01-02T03:04:00Z'));
    expect((await h.handle('/status')).body).toEqual({
      kind: 'command',
      text: expect.stringContaining('에이전트와 연결되어 있습니다'),
    });
    expect((await h.handle('/unpair')).body).toEqual({ kind: 'command', text: KO.unpairDone });
  });

  it('stores a message with its channel, body and reply deadline, then hands it off with one publish', async () => {
    const h = harness();
    const answer = await h.handle('hello');
    expect(answer.body).toEqual({ kind: 'stored', messageId: 'm-1', handOff: expect.any(Function) });
    expect(h.inserted).toEqual([
      {
        channel: 'works',
        conversationKey: 'works:bot:user',
        payload: { text: 'hello' },
        normalized: { userId: 'user', text: 'hello', channelId: 'bot' },
        callbackUrl: null,
        dedupeKey: null,
        replyDeadline: expect.any(Date),
        boundAccountId: null,
      },
    ]);
    expect(h.inserted[0].replyDeadline.getTime()).toBe(NOW + 60_000);
    expect(h.published).toEqual([
      {
        kind: 'message',
        seq: 7,
        data: {
          id: 'm-1',
          conversationKey: 'works:bot:user',
          channel: 'works',
          normalized: { userId: 'user', text: 'hello', channelId: 'bot' },
          createdAt: new Date(0).toISOString(),
          payload: { text: 'hello' },
        },
      },
    ]);
    expect(h.enqueued).toEqual([]);
    expect(await h.results()).toEqual({ stored: 1 });
  });

  it('queues the delivery when the publish fails', async () => {
    const h = harness();
    h.publishDown();
    await h.handle('hello');
    expect(h.enqueued.map((m) => m.id)).toEqual(['m-1']);
  });

  it('tells an unpaired user how to pair, and answers a duplicate without a hand-off', async () => {
    const h = harness();
    h.setInsert(async () => ({ kind: 'unpaired' }));
    expect((await h.handle('hi')).body).toEqual({ kind: 'unpaired', text: KO.notPaired });
    h.setInsert(async () => ({ kind: 'duplicate', existingId: 'm-0' }));
    expect((await h.handle('hi')).body).toEqual({ kind: 'duplicate' });
    expect(h.published).toEqual([]);
    expect(await h.results()).toEqual({ unpaired: 1, duplicate: 1 });
  });

  it('asks a user past the per-conversation limit to slow down and stores nothing', async () => {
    const h = harness();
    await h.handle('one');
    await h.handle('two');
    expect((await h.handle('three')).body).toEqual({ kind: 'flood', text: KO.slowDown });
    expect(h.inserted).toHaveLength(2);
  });

  it('stores the message when the flood guard itself is unavailable', async () => {
    const h = harness();
    h.limiterDown();
    expect((await h.handle('hello')).body).toMatchObject({ kind: 'stored' });
  });

  it('answers "unavailable" when the store fails: with Retry-After seconds when its queue is full', async () => {
    const h = harness();
    h.setInsert(async () => {
      throw new OverloadedError();
    });
    expect((await h.handle('hi')).body).toEqual({
      kind: 'unavailable',
      text: KO.unavailable,
      retryAfterSeconds: 1,
    });
    h.setInsert(async () => {
      throw new Error('connection terminated');
    });
    expect((await h.handle('hi')).body).toEqual({
      kind: 'unavailable',
      text: KO.unavailable,
      retryAfterSeconds: undefined,
    });
    expect(await h.results()).toEqual({ overloaded: 1, unavailable: 1 });
  });

  it('throws what the adapter refuses before anything is looked up, counted as refused', async () => {
    const h = harness();
    h.adapter.refuse = new ForbiddenError('BOT_NOT_ALLOWED', 'no');
    await expect(h.handle('/help')).rejects.toBe(h.adapter.refuse);
    expect(h.inserted).toEqual([]);
    expect(h.adapter.outcomes).toEqual([]);
    expect(await h.results()).toEqual({ refused: 1 });
  });

  it('counts an inline wait that ended without a reply as inline_timeout', async () => {
    const h = harness();
    h.adapter.timedOut = true;
    await h.handle('hello');
    expect(await h.results()).toEqual({ inline_timeout: 1 });
  });
  it('records a messenger event that is not a message: no command looked for, nothing stored or streamed', async () => {
    const h = harness();
    const message = { ...h.adapter.parse({ text: '/help' }), event: 'join', dedupeKey: 'digest-1' };
    const answer = await h.service.handle(h.adapter, message);
    expect(answer.body).toEqual({ kind: 'recorded' });
    expect(h.recorded).toEqual([
      {
        channel: 'works',
        conversationKey: 'works:bot:user',
        type: 'join',
        payload: { text: '/help' },
        dedupeKey: 'digest-1',
      },
    ]);
    expect(h.inserted).toEqual([]);
    expect(h.published).toEqual([]);
    expect(await h.results()).toEqual({ recorded: 1 });
  });
  describe('bot binding (server-mode.md §3)', () => {
    const BOUND: BotAccess = { kind: 'bound', accountId: 'bound-acct' };

    it("asks the binding of the message's bot and user, from memory", async () => {
      const h = harness();
      await h.handle('hello');
      expect(h.accessAsked).toEqual(['works/bot/user']);
    });

    it("pairing (or no binding): today's behaviour, no bound account required", async () => {
      const h = harness();
      h.setInsert(async () => ({ kind: 'unpaired' }));
      expect((await h.handle('hi')).body).toEqual({ kind: 'unpaired', text: KO.notPaired });
      expect(h.inserted[0].boundAccountId).toBeNull();
      expect(h.bindCalls).toEqual([]);
    });

    it('open: a first message pairs the conversation to the bound account, then is stored by the same statement', async () => {
      const h = harness();
      h.setAccess(BOUND);
      let paired = false;
      h.setInsert(async (input) => {
        if (!paired) return { kind: 'unpaired' };
        return {
          kind: 'created',
          message: {
            id: 'm-2',
            accountId: 'bound-acct',
            seq: 1,
            channel: input.channel,
            conversationKey: input.conversationKey,
            payload: input.payload,
            normalized: input.normalized,
            callbackUrl: input.callbackUrl,
            createdAt: new Date(0),
          },
        };
      });
      h.setOnBind(() => (paired = true));
      expect((await h.handle('hello')).body).toMatchObject({ kind: 'stored', messageId: 'm-2' });
      expect(h.bindCalls).toEqual([{ conversationKey: 'works:bot:user', accountId: 'bound-acct' }]);
      expect(h.inserted.map((i) => i.boundAccountId)).toEqual(['bound-acct', 'bound-acct']);
      expect(h.published).toHaveLength(1);
      expect(await h.results()).toEqual({ stored: 1 });
    });

    it('open: a later message (conversation paired to the bound account) is one insert, no pairing', async () => {
      const h = harness();
      h.setAccess(BOUND);
      expect((await h.handle('again')).body).toMatchObject({ kind: 'stored' });
      expect(h.inserted).toHaveLength(1);
      expect(h.inserted[0].boundAccountId).toBe('bound-acct');
      expect(h.bindCalls).toEqual([]);
    });

    it('a conversation that stays unpaired after binding fails the request (answered "unavailable")', async () => {
      const h = harness();
      h.setAccess(BOUND);
      h.setInsert(async () => ({ kind: 'unpaired' }));
      expect((await h.handle('hello')).body).toMatchObject({ kind: 'unavailable' });
      expect(h.bindCalls).toHaveLength(1);
    });

    it('bound: /pair and /unpair answer that the bot is bound and change nothing; /help still works', async () => {
      const h = harness();
      h.setAccess(BOUND);
      expect((await h.handle('/pair ABCD-2345')).body).toEqual({ kind: 'command', text: KO.botBoundPair });
      expect((await h.handle('/unpair')).body).toEqual({ kind: 'command', text: KO.botBoundUnpair });
      expect((await h.handle('/help')).body).toEqual({ kind: 'command', text: KO.help });
      expect(h.pairCalls).toEqual([]);
      expect(h.inserted).toEqual([]);
    });

    it('bound: /status says the bot is bound until the conversation is paired to the bound account', async () => {
      const h = harness();
      h.setAccess(BOUND);
      expect((await h.handle('/status')).body).toEqual({ kind: 'command', text: KO.statusBound });
      h.setPairedAt(new Date('2025-01-02T03:04:00Z'));
      h.setPairedTo('other-acct');
      expect((await h.handle('/status')).body).toEqual({ kind: 'command', text: KO.statusBound });
      h.setPairedTo('bound-acct');
      expect((await h.handle('/status')).body).toEqual({
        kind: 'command',
        text: expect.stringContaining('에이전트와 연결되어 있습니다'),
      });
    });

    it('allowlist, user not listed: a polite refusal, nothing stored, no command but /help', async () => {
      const h = harness();
      h.setAccess({ kind: 'refused' });
      expect((await h.handle('hello')).body).toEqual({ kind: 'refused', text: KO.botNotAllowed });
      for (const command of ['/pair ABCD-2345', '/unpair', '/status']) {
        expect((await h.handle(command)).body).toEqual({ kind: 'command', text: KO.botNotAllowed });
      }
      expect((await h.handle('/help')).body).toEqual({ kind: 'command', text: KO.help });
      expect(h.inserted).toEqual([]);
      expect(h.pairCalls).toEqual([]);
      expect(h.bindCalls).toEqual([]);
      expect((await h.results()).not_allowed).toBe(1);
    });

    it('records a messenger event whatever the binding', async () => {
      const h = harness();
      h.setAccess({ kind: 'refused' });
      const message = { ...h.adapter.parse({ text: 'x' }), event: 'join' };
      expect((await h.service.handle(h.adapter, message)).body).toEqual({ kind: 'recorded' });
      expect(h.recorded).toHaveLength(1);
    });
  });
});
