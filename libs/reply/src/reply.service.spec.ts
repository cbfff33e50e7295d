import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { parseConfig } from '@app/config';
import { FixedClock, RelayError, SkillResponse, WorksTarget } from '@app/core';
import type { CallbackSendJob, PubSubService } from '@app/messaging';
import type { AgentPrincipal } from '@app/pairing';
import { RelayMetrics } from '@app/platform';
import { InMemoryReplyStore } from '@app/testing/in-memory-reply-store';
import { InMemoryHeldAnswerStore } from '@app/testing/fakes/held-answer-store';
import { KakaoBotStore } from '@app/core';
import type { WorksContent, WorksSendContext, WorksSender } from '@app/works';
import { CallbackSendQueue } from './callback-send.queue';
import type { ReplyDto, ReplyResponse } from './dto/reply.dto';
import { ReplyService, SEND_MARGIN_MS } from './reply.service';
import { HeldAnswersService } from './held-answers.service';
import type { KakaoEventQueue } from './kakao-event.queue';

const ACCOUNT = '0190a5c4-0000-7000-8000-00000000000a';
const OTHER_ACCOUNT = '0190a5c4-0000-7000-8000-00000000000b';
const MESSAGE = '0190a5c4-0000-7000-8000-000000000001';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const text = (t: string): SkillResponse => ({
  version: '2.0',
  template: { outputs: [{ simpleText: { text: t } }] },
});

const agent = (accountId: string | null = ACCOUNT): AgentPrincipal => ({
  kind: 'session',
  sessionId: '0190a5c4-0000-7000-8000-0000000000ee',
  accountId,
  status: accountId ? 'paired' : 'pending_pairing',
  expiresAt: null,
  tokenHash: 'hash',
});

const dto = (response: ReplyResponse, messageId = MESSAGE): ReplyDto => ({ messageId, response });

/** BullMQ's `add` as the queue sees it; `down` makes it fail like Redis away. */
function fakeBull() {
  const jobs: Array<{ data: CallbackSendJob; options: { jobId?: string; delay?: number } }> = [];
  const state = { down: false };
  const queue = {
    add: async (_name: string, data: CallbackSendJob, options: { jobId?: string; delay?: number }) => {
      if (state.down) throw new Error('Connection is closed.');
      jobs.push({ data, options });
      return {};
    },
  };
  return { queue: queue as unknown as Queue<CallbackSendJob>, jobs, state };
}

/** The outcome channel of a synchronous reply: `outcome` is what the send job publishes (null: nothing came). */
function fakePubSub(log: string[]) {
  const state: { outcome: string | null; channels: string[]; timeouts: number[]; cancelled: number } = {
    outcome: null,
    channels: [],
    timeouts: [],
    cancelled: 0,
  };
  const pubsub = {
    channel: (...parts: string[]) => parts.join(':'),
    waitForOne: async (channel: string, timeoutMs: number) => {
      log.push('subscribe');
      state.channels.push(channel);
      state.timeouts.push(timeoutMs);
      return { result: Promise.resolve(state.outcome), cancel: () => void state.cancelled++ };
    },
  };
  return { pubsub: pubsub as unknown as PubSubService, state };
}

/** `WorksSender` as the reply path sees it: records each call (in order) and answers stored sends with ids. */
function fakeWorksSender(log: string[]) {
  const calls: Array<{ target: WorksTarget; contents: WorksContent[]; context: WorksSendContext }> = [];
  const state = { down: false, nextId: 1 };
  const sender = {
    send: async (target: WorksTarget, contents: WorksContent[], context: WorksSendContext) => {
      log.push('works-send');
      if (state.down) throw new Error('Connection is closed.');
      calls.push({ target, contents, context });
      return contents.map((content) => ({
        id: `0190a5c4-0000-7000-8000-${String(state.nextId++).padStart(12, '0')}`,
        content,
      }));
    },
  };
  return { sender: sender as unknown as WorksSender, calls, state };
}

function setup(env: Record<string, string> = {}) {
  const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
  const log: string[] = [];
  const store = new InMemoryReplyStore(clock);
  const accept = store.acceptReply.bind(store);
  store.acceptReply = (...args) => {
    log.push('accept');
    return accept(...args);
  };
  const bull = fakeBull();
  const { pubsub, state: outcome } = fakePubSub(log);
  const metrics = new RelayMetrics();
  const config = parseConfig(env);
  const works = fakeWorksSender(log);
  const heldStore = new InMemoryHeldAnswerStore(store, new Map([['bot-1:user-1', 'bot-user-1']]));
  const eventJobs: string[] = [];
  const eventBots = new Set<string>(env.EVENT_BOT ? [env.EVENT_BOT] : []);
  const bots = { hasEventApi: async (botId: string) => eventBots.has(botId) } as unknown as KakaoBotStore;
  const eventQueue = {
    add: async (heldId: string) => {
      eventJobs.push(heldId);
    },
  } as unknown as KakaoEventQueue;
  const held = new HeldAnswersService(config, heldStore, bots, eventQueue, clock, metrics);
  const service = new ReplyService(
    config,
    store,
    new CallbackSendQueue(bull.queue, clock),
    pubsub,
    metrics,
    clock,
    works.sender,
    held,
  );
  store.addMessage({ id: MESSAGE, accountId: ACCOUNT, replyDeadline: clock.after(55_000) });
  return { clock, store, bull, outcome, metrics, service, log, works, heldStore, eventJobs };
}

async function refusal(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RelayError);
  return error as RelayError;
}

describe('ReplyService', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('accepts a reply at once and schedules the send after the quiet time', async () => {
    const { service, store, bull, clock, metrics } = setup();
    const answer = await service.reply(agent(), dto(text('hello')));
    expect(answer).toEqual({ success: true, status: 'accepted', replyId: expect.stringMatching(UUID) });
    const send = store.sendOf(MESSAGE);
    expect(send?.replies.map((r) => r.response)).toEqual([text('hello')]);
    expect(send?.replies[0].receivedAt).toBe(clock.date().toISOString());
    expect(send?.sendAfter).toEqual(clock.after(1200));
    expect(bull.jobs).toEqual([
      {
        data: { messageId: MESSAGE },
        options: expect.objectContaining({ jobId: `send-${MESSAGE}`, delay: 1200 }),
      },
    ]);
    expect((await metrics.repliesAccepted.get()).values[0].value).toBe(1);
  });

  it('each further reply in the quiet time joins the send and pushes it back; one job id throughout', async () => {
    const { service, store, bull, clock } = setup();
    await service.reply(agent(), dto(text('one')));
    clock.advance(500);
    await service.reply(agent(), dto(text('two')));
    clock.advance(1100);
    await service.reply(agent(), dto(text('three')));
    const send = store.sendOf(MESSAGE);
    expect(send?.replies.map((r) => r.response)).toEqual([text('one'), text('two'), text('three')]);
    expect(send?.sendAfter).toEqual(clock.after(1200));
    expect(new Set(bull.jobs.map((j) => j.options.jobId))).toEqual(new Set([`send-${MESSAGE}`]));
  });

  it('never lets the quiet time run past the deadline minus the callback margin', async () => {
    const { service, store, clock } = setup();
    store.addMessage({ id: MESSAGE, accountId: ACCOUNT, replyDeadline: clock.after(1500) });
    await service.reply(agent(), dto(text('late in the window')));
    expect(store.sendOf(MESSAGE)?.sendAfter).toEqual(clock.after(1500 - SEND_MARGIN_MS.callback));
  });

  it('inline messages (no callback URL) keep the smaller inline margin', async () => {
    const { service, store, clock } = setup();
    store.addMessage({
      id: MESSAGE,
      accountId: ACCOUNT,
      callbackUrl: null,
      replyDeadline: clock.after(1000),
    });
    await service.reply(agent(), dto(text('inline')));
    const send = store.sendOf(MESSAGE);
    expect(send?.mode).toBe('inline');
    expect(send?.sendAfter).toEqual(clock.after(1000 - SEND_MARGIN_MS.inline));
  });

  it('inside the margin already: sends at once rather than never', async () => {
    const { service, store, bull, clock } = setup();
    store.addMessage({ id: MESSAGE, accountId: ACCOUNT, replyDeadline: clock.after(400) });
    await service.reply(agent(), dto(text('now')));
    expect(store.sendOf(MESSAGE)?.sendAfter).toEqual(clock.date());
    expect(bull.jobs[0].options.delay).toBe(0);
  });

  it('LATE_REPLIES=reject: a reply once the send was claimed, or after it, is 409 ALREADY_REPLIED and not stored', async () => {
    const { service, store, clock } = setup({ LATE_REPLIES: 'reject' });
    await service.reply(agent(), dto(text('first')));
    clock.advance(1200);
    const claimed = await store.claimDue(MESSAGE, clock.date());
    expect(claimed).not.toBeNull();
    const inFlight = await refusal(service.reply(agent(), dto(text('too late'))));
    expect([inFlight.statusCode, inFlight.code]).toEqual([409, 'ALREADY_REPLIED']);
    await store.finish(claimed!.id, {
      ok: true,
      response: text('first'),
      attempts: 1,
      httpStatus: 200,
      error: null,
    });
    const after = await refusal(service.reply(agent(), dto(text('later still'))));
    expect([after.statusCode, after.code]).toEqual([409, 'ALREADY_REPLIED']);
    expect(store.sendOf(MESSAGE)?.replies).toHaveLength(1);
  });

  it('LATE_REPLIES=reject: at or past the callback deadline: 409 CALLBACK_EXPIRED (never 410 or 401), nothing queued', async () => {
    const { service, store, bull, clock } = setup({ LATE_REPLIES: 'reject' });
    clock.advance(55_000);
    const atDeadline = await refusal(service.reply(agent(), dto(text('x'))));
    expect([atDeadline.statusCode, atDeadline.code]).toEqual([409, 'CALLBACK_EXPIRED']);
    clock.advance(1);
    const past = await refusal(service.reply(agent(), dto(text('x'))));
    expect([past.statusCode, past.code]).toEqual([409, 'CALLBACK_EXPIRED']);
    expect(store.sendOf(MESSAGE)).toBeUndefined();
    expect(bull.jobs).toEqual([]);
  });

  it('LATE_REPLIES=reject: a message the cleanup expired is 409 CALLBACK_EXPIRED even before its deadline', async () => {
    const { service, store } = setup({ LATE_REPLIES: 'reject' });
    store.messages.get(MESSAGE)!.status = 'expired';
    const e = await refusal(service.reply(agent(), dto(text('x'))));
    expect([e.statusCode, e.code]).toEqual([409, 'CALLBACK_EXPIRED']);
  });

  describe('LATE_REPLIES=hold (default, server-mode §4)', () => {
    it('a reply 55 s after the message is held, and later ones to the same message are merged into it', async () => {
      const { service, store, bull, clock, heldStore, eventJobs } = setup();
      clock.advance(55_000);
      const first = await service.reply(agent(), dto(text('late 1')));
      expect(first).toEqual({ success: true, status: 'held', replyId: expect.stringMatching(UUID) });
      clock.advance(1000);
      const second = await service.reply(agent(), dto(text('late 2')));
      expect(second).toMatchObject({ status: 'held' });
      expect(store.held).toHaveLength(1);
      expect(store.held[0].replies.map((r) => r.response)).toEqual([text('late 1'), text('late 2')]);
      expect(store.held[0].expiresAt).toEqual(clock.after(72 * 3_600_000 - 1000));
      expect(store.sendOf(MESSAGE)).toBeUndefined();
      expect(bull.jobs).toEqual([]);
      expect(eventJobs).toEqual([]);
      expect(await heldStore.answerState(ACCOUNT, (first as { replyId: string }).replyId)).toEqual({
        id: (first as { replyId: string }).replyId,
        status: 'held',
      });
    });

    it('a reply after the send was claimed is held, not joined to the send in flight', async () => {
      const { service, store, clock } = setup();
      await service.reply(agent(), dto(text('first')));
      clock.advance(1200);
      const claimed = await store.claimDue(MESSAGE, clock.date());
      expect(claimed?.held).toEqual([]);
      expect(await service.reply(agent(), dto(text('second')))).toMatchObject({ status: 'held' });
      expect(store.sendOf(MESSAGE)?.replies).toHaveLength(1);
      expect(store.held.map((h) => h.status)).toEqual(['held']);
    });

    it('the next message of the conversation takes the held answer with its send, once', async () => {
      const { service, store, clock } = setup();
      clock.advance(56_000);
      await service.reply(agent(), dto(text('late')));
      const NEXT = '0190a5c4-0000-7000-8000-000000000002';
      store.addMessage({ id: NEXT, accountId: ACCOUNT, replyDeadline: clock.after(55_000) });
      await service.reply(agent(), dto(text('next answer'), NEXT));
      clock.advance(1200);
      const claimed = await store.claimDue(NEXT, clock.date());
      expect(claimed?.held.map((h) => h.replies.map((r) => r.response))).toEqual([[text('late')]]);
      expect(store.held[0].status).toBe('claimed');
      await store.finish(claimed!.id, {
        ok: true,
        response: text('late\n\nnext answer'),
        attempts: 1,
        httpStatus: 200,
        error: null,
        heldIncluded: [store.held[0].id],
      });
      expect(store.held[0]).toMatchObject({ status: 'sent', sentVia: 'next_answer' });
    });

    it("a conversation paired to another agent since does not carry the first agent's held answer", async () => {
      const { service, store, clock } = setup();
      clock.advance(56_000);
      await service.reply(agent(), dto(text('first agent, late')));
      const NEXT = '0190a5c4-0000-7000-8000-000000000003';
      store.addMessage({ id: NEXT, accountId: OTHER_ACCOUNT, replyDeadline: clock.after(55_000) });
      await service.reply(agent(OTHER_ACCOUNT), dto(text('second agent'), NEXT));
      clock.advance(1200);
      const claimed = await store.claimDue(NEXT, clock.date());
      expect(claimed?.held).toEqual([]);
      expect(store.held[0].status).toBe('held');
    });

    it('a failed send gives the held answer back for the answer after it', async () => {
      const { service, store, clock } = setup();
      clock.advance(56_000);
      await service.reply(agent(), dto(text('late')));
      const NEXT = '0190a5c4-0000-7000-8000-000000000002';
      store.addMessage({ id: NEXT, accountId: ACCOUNT, replyDeadline: clock.after(55_000) });
      await service.reply(agent(), dto(text('next'), NEXT));
      clock.advance(1200);
      const claimed = await store.claimDue(NEXT, clock.date());
      await store.finish(claimed!.id, {
        ok: false,
        response: text('x'),
        attempts: 1,
        httpStatus: 400,
        error: 'FAIL',
        heldIncluded: [store.held[0].id],
      });
      expect(store.held[0]).toMatchObject({ status: 'held', claimedBy: null });
    });

    it('a bot with Event API settings gets an Event API job for a new held answer, not for a merged reply', async () => {
      const { service, store, clock, eventJobs } = setup({ EVENT_BOT: 'bot-1' });
      clock.advance(55_000);
      await service.reply(agent(), dto(text('late 1')));
      await service.reply(agent(), dto(text('late 2')));
      expect(eventJobs).toEqual([store.held[0].id]);
      expect(store.held[0].status).toBe('event_pending');
      expect(store.held[0].replies).toHaveLength(2);
    });

    it("another account's message is still 404, held or not", async () => {
      const { service, clock } = setup();
      clock.advance(55_000);
      const e = await refusal(service.reply(agent(OTHER_ACCOUNT), dto(text('x'))));
      expect([e.statusCode, e.code]).toEqual([404, 'MESSAGE_NOT_FOUND']);
    });
  });

  it("answers another account's message exactly like an unknown one: 404 MESSAGE_NOT_FOUND", async () => {
    const { service, store, clock } = setup();
    const unknown = await refusal(
      service.reply(agent(), dto(text('x'), '0190a5c4-0000-7000-8000-0000000000ff')),
    );
    const foreign = await refusal(service.reply(agent(OTHER_ACCOUNT), dto(text('x'))));
    expect([unknown.statusCode, unknown.code]).toEqual([404, 'MESSAGE_NOT_FOUND']);
    expect([foreign.statusCode, foreign.code, foreign.message]).toEqual([
      unknown.statusCode,
      unknown.code,
      unknown.message,
    ]);
    // Not even "already replied" or "expired" leaks for a foreign message.
    await service.reply(agent(), dto(text('own')));
    clock.advance(60_000);
    const foreignLate = await refusal(service.reply(agent(OTHER_ACCOUNT), dto(text('x'))));
    expect(foreignLate.code).toBe('MESSAGE_NOT_FOUND');
    expect(store.sendOf(MESSAGE)?.replies).toHaveLength(1);
  });

  it('a session that is not paired yet is 401 SESSION_NOT_PAIRED, before anything is read', async () => {
    const { service, log } = setup();
    const e = await refusal(service.reply(agent(null), dto(text('x'))));
    expect([e.statusCode, e.code]).toEqual([401, 'SESSION_NOT_PAIRED']);
    expect(log).toEqual([]);
  });

  it('keeps an accepted reply when the send job cannot be queued (the sweep queues it later)', async () => {
    const { service, store, bull } = setup();
    bull.state.down = true;
    await expect(service.reply(agent(), dto(text('stored anyway')))).resolves.toMatchObject({
      status: 'accepted',
    });
    expect(store.sendOf(MESSAGE)?.status).toBe('pending');
    expect(await store.findOverdueMessageIds(new Date(Date.UTC(2030, 0)), 10)).toEqual([MESSAGE]);
  });

  describe('with REPLY_COALESCE_MS=0 (synchronous)', () => {
    it('subscribes to the outcome before storing, sends at once, and answers deliveredAt', async () => {
      const { service, store, outcome, log, bull } = setup({ REPLY_COALESCE_MS: '0' });
      outcome.outcome = JSON.stringify({ status: 'sent', deliveredAt: 1_795_400_000_000 });
      await expect(service.reply(agent(), dto(text('sync')))).resolves.toEqual({
        success: true,
        deliveredAt: 1_795_400_000_000,
      });
      expect(log).toEqual(['subscribe', 'accept']);
      expect(outcome.channels).toEqual([`outcome:${MESSAGE}`]);
      expect(outcome.timeouts).toEqual([55_000 + 6000]);
      expect(outcome.cancelled).toBe(1);
      expect(bull.jobs[0].options.delay).toBe(0);
      expect(store.sendOf(MESSAGE)?.replies).toHaveLength(1);
    });

    it('answers 502 CALLBACK_FAILED with the reason when the send failed', async () => {
      const { service, outcome } = setup({ REPLY_COALESCE_MS: '0' });
      outcome.outcome = JSON.stringify({ status: 'failed', error: 'Kakao answered FAIL: expired' });
      const e = await refusal(service.reply(agent(), dto(text('sync'))));
      expect([e.statusCode, e.code]).toEqual([502, 'CALLBACK_FAILED']);
      expect(e.message).toContain('Kakao answered FAIL: expired');
    });

    it('without a published outcome, 502 unless the store says it was sent', async () => {
      const { service } = setup({ REPLY_COALESCE_MS: '0' });
      await expect(service.reply(agent(), dto(text('sync')))).rejects.toMatchObject({
        statusCode: 502,
        code: 'CALLBACK_FAILED',
        message: expect.stringContaining('no outcome before the deadline'),
      });
    });

    it('without a published outcome, answers deliveredAt from the stored send', async () => {
      const { service, store, clock } = setup({ REPLY_COALESCE_MS: '0' });
      const accept = store.acceptReply.bind(store);
      // The send job runs (and its publish is lost) while the reply waits.
      store.acceptReply = async (...args) => {
        const result = await accept(...args);
        clock.advance(300);
        const claimed = await store.claimDue(MESSAGE, clock.date());
        await store.finish(claimed!.id, {
          ok: true,
          response: text('x'),
          attempts: 1,
          httpStatus: 200,
          error: null,
        });
        return result;
      };
      const start = clock.now();
      await expect(service.reply(agent(), dto(text('x')))).resolves.toEqual({
        success: true,
        deliveredAt: start + 300,
      });
    });
  });

  describe('a Naver Works message (no callback window)', () => {
    const WORKS_MESSAGE = '0190a5c4-0000-7000-8000-000000000002';
    const ROOM_MESSAGE = '0190a5c4-0000-7000-8000-000000000003';

    function worksSetup(env: Record<string, string> = {}) {
      const ctx = setup(env);
      ctx.store.addMessage({
        id: WORKS_MESSAGE,
        accountId: ACCOUNT,
        channel: 'works',
        conversationKey: 'works:2000001:user-1',
        callbackUrl: null,
      });
      ctx.store.addMessage({
        id: ROOM_MESSAGE,
        accountId: ACCOUNT,
        channel: 'works',
        conversationKey: 'works:2000001:channel:room-9',
        callbackUrl: null,
      });
      return ctx;
    }

    const works = (content: WorksContent): ReplyResponse => ({ works: content });

    it('converts a SkillResponse and hands it to the Works send path at once: 200 accepted, replyId = first send', async () => {
      const { service, store, works: sender, bull, clock, metrics } = worksSetup();
      const response: SkillResponse = {
        version: '2.0',
        template: {
          outputs: [
            { simpleText: { text: 'one' } },
            { simpleImage: { imageUrl: 'https://img.example/a.png' } },
          ],
        },
      };
      const answer = await service.reply(agent(), dto(response, WORKS_MESSAGE));
      expect(sender.calls).toEqual([
        {
          target: { botId: '2000001', kind: 'user', id: 'user-1' },
          contents: [
            { type: 'text', text: 'one' },
            {
              type: 'image',
              previewImageUrl: 'https://img.example/a.png',
              originalContentUrl: 'https://img.example/a.png',
            },
          ],
          context: { accountId: ACCOUNT, messageId: WORKS_MESSAGE },
        },
      ]);
      expect(answer).toEqual({
        success: true,
        status: 'accepted',
        replyId: '0190a5c4-0000-7000-8000-000000000001',
      });
      // Nothing of the Kakao path: no outbound row, no callback job; the message is replied.
      expect(store.sendOf(WORKS_MESSAGE)).toBeUndefined();
      expect(bull.jobs).toEqual([]);
      expect(store.messages.get(WORKS_MESSAGE)).toMatchObject({ status: 'replied', repliedAt: clock.date() });
      expect((await metrics.repliesAccepted.get()).values[0].value).toBe(1);
    });

    it('sends {"works": …} as is, and a room to its channel', async () => {
      const { service, works: sender } = worksSetup();
      const content: WorksContent = { type: 'sticker', packageId: '1', stickerId: '2' };
      await service.reply(agent(), dto(works(content), ROOM_MESSAGE));
      expect(sender.calls).toEqual([
        {
          target: { botId: '2000001', kind: 'channel', id: 'room-9' },
          contents: [content],
          context: { accountId: ACCOUNT, messageId: ROOM_MESSAGE },
        },
      ]);
    });

    it('accepts every further or late reply and sends each in order: no 409, whatever the time', async () => {
      const { service, store, works: sender, clock } = worksSetup();
      const first = await service.reply(agent(), dto(text('first'), WORKS_MESSAGE));
      const repliedAt = clock.date();
      clock.advance(10 * 60_000);
      store.messages.get(WORKS_MESSAGE)!.status = 'expired';
      const second = await service.reply(
        agent(),
        dto(works({ type: 'text', text: 'second' }), WORKS_MESSAGE),
      );
      expect(first).toMatchObject({ status: 'accepted' });
      expect(second).toMatchObject({ status: 'accepted' });
      expect(second).not.toEqual(first);
      expect(sender.calls.map((c) => c.contents)).toEqual([
        [{ type: 'text', text: 'first' }],
        [{ type: 'text', text: 'second' }],
      ]);
      expect(store.messages.get(WORKS_MESSAGE)).toMatchObject({ status: 'replied' });
      // The status moved from `expired` back to `replied`, stamped by the late reply.
      expect(store.messages.get(WORKS_MESSAGE)!.repliedAt).not.toEqual(repliedAt);
    });

    it('keeps the first replied_at for a second reply', async () => {
      const { service, store, clock } = worksSetup();
      await service.reply(agent(), dto(text('first'), WORKS_MESSAGE));
      const repliedAt = clock.date();
      clock.advance(5_000);
      await service.reply(agent(), dto(text('second'), WORKS_MESSAGE));
      expect(store.messages.get(WORKS_MESSAGE)!.repliedAt).toEqual(repliedAt);
    });

    it('does not wait for the send even with REPLY_COALESCE_MS=0 (nothing subscribed)', async () => {
      const { service, log, outcome } = worksSetup({ REPLY_COALESCE_MS: '0' });
      await expect(service.reply(agent(), dto(text('x'), WORKS_MESSAGE))).resolves.toMatchObject({
        status: 'accepted',
      });
      expect(log).toEqual(['works-send']);
      expect(outcome.channels).toEqual([]);
    });

    it("another account's Works message is the same 404 as an unknown one, and nothing is sent", async () => {
      const { service, works: sender } = worksSetup();
      const unknown = await refusal(
        service.reply(agent(), dto(text('x'), '0190a5c4-0000-7000-8000-0000000000ff')),
      );
      const foreign = await refusal(service.reply(agent(OTHER_ACCOUNT), dto(text('x'), WORKS_MESSAGE)));
      expect([foreign.statusCode, foreign.code, foreign.message]).toEqual([
        unknown.statusCode,
        unknown.code,
        unknown.message,
      ]);
      expect(sender.calls).toEqual([]);
    });

    it('a response with nothing Works can show is 400 VALIDATION_ERROR, nothing sent or marked', async () => {
      const { service, store, works: sender } = worksSetup();
      const empty: SkillResponse = { version: '2.0', template: { outputs: [] } };
      const e = await refusal(service.reply(agent(), dto(empty, WORKS_MESSAGE)));
      expect([e.statusCode, e.code]).toEqual([400, 'VALIDATION_ERROR']);
      expect(sender.calls).toEqual([]);
      expect(store.messages.get(WORKS_MESSAGE)?.status).toBe('queued');
    });

    it('a Works send path that refuses (Redis away) fails the call and leaves the message unanswered', async () => {
      const { service, store, works: sender } = worksSetup();
      sender.state.down = true;
      await expect(service.reply(agent(), dto(text('x'), WORKS_MESSAGE))).rejects.toThrow('Connection');
      expect(store.messages.get(WORKS_MESSAGE)?.status).toBe('queued');
    });
  });

  it('a {"works": …} response to a Kakao message is 400 VALIDATION_ERROR, nothing stored', async () => {
    const { service, store, works: sender, bull } = setup();
    const e = await refusal(service.reply(agent(), dto({ works: { type: 'text', text: 'x' } })));
    expect([e.statusCode, e.code]).toEqual([400, 'VALIDATION_ERROR']);
    expect(store.sendOf(MESSAGE)).toBeUndefined();
    expect(bull.jobs).toEqual([]);
    expect(sender.calls).toEqual([]);
  });

  it('a {"works": …} response to a foreign Kakao message is 404, not 400 (existence not revealed)', async () => {
    const { service } = setup();
    const e = await refusal(service.reply(agent(OTHER_ACCOUNT), dto({ works: { type: 'text', text: 'x' } })));
    expect(e.code).toBe('MESSAGE_NOT_FOUND');
  });
});
