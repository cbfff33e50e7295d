import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { parseConfig } from '@app/config';
import { FixedClock, KakaoBotStore, KakaoEventSettings } from '@app/core';
import type { ChannelEnvelope, KakaoEventJob, StreamEventPublisher } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { InMemoryHeldAnswerStore } from '@app/testing/fakes/held-answer-store';
import { InMemoryReplyStore } from '@app/testing/in-memory-reply-store';
import type { EventApiAnswer, KakaoEventApiClient } from './kakao-event.client';
import { KakaoEventWorker } from './kakao-event.worker';

const HELD = '0190a5c4-0000-7000-8000-0000000000e1';

function setup(answers: EventApiAnswer[]) {
  const clock = new FixedClock();
  const replies = new InMemoryReplyStore(clock);
  const held = new InMemoryHeldAnswerStore(replies);
  const settings: KakaoEventSettings = { botId: 'bot-1', eventName: 'relay_held', restApiKey: 'key' };
  const bots = { eventSettings: async () => settings } as unknown as KakaoBotStore;
  const calls: string[] = [];
  const client = {
    call: async (_s: KakaoEventSettings, botUserKey: string, heldId: string) => {
      calls.push(`${botUserKey} ${heldId}`);
      return answers.shift() ?? answers[0];
    },
  } as unknown as KakaoEventApiClient;
  const published: Array<[string, ChannelEnvelope]> = [];
  const events = {
    toAccount: async (accountId: string, envelope: ChannelEnvelope) => {
      published.push([accountId, envelope]);
      return 1;
    },
  } as unknown as StreamEventPublisher;
  const worker = new KakaoEventWorker(parseConfig({}), held, bots, client, events, new RelayMetrics());
  const job = (attemptsMade: number) =>
    ({ data: { heldId: HELD }, attemptsMade, opts: { attempts: 6 } }) as unknown as Job<KakaoEventJob>;
  return { held, replies, worker, job, calls, published, clock };
}

async function pending(ctx: ReturnType<typeof setup>) {
  await ctx.held.holdProactive({
    id: HELD,
    accountId: 'acct',
    conversationKey: 'bot-1:user',
    botId: 'bot-1',
    botUserKey: 'bot-user',
    reply: { replyId: HELD, response: { version: '2.0' }, receivedAt: ctx.clock.date().toISOString() },
    expiresAt: ctx.clock.after(3_600_000),
  });
  await ctx.held.markEventPending(HELD);
}

describe('KakaoEventWorker', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('SUCCESS: the held answer waits in event_pending for the event block', async () => {
    const ctx = setup([{ httpStatus: 200, body: { taskId: 't', status: 'SUCCESS' }, error: null }]);
    await pending(ctx);
    expect(await ctx.worker.process(ctx.job(0))).toBe('accepted');
    expect(ctx.calls).toEqual([`bot-user ${HELD}`]);
    expect((await ctx.held.find(HELD))?.status).toBe('event_pending');
    expect(ctx.published).toEqual([]);
  });

  it('a transient failure is thrown (BullMQ retries it) while attempts remain', async () => {
    const ctx = setup([{ httpStatus: 503, body: null, error: 'HTTP 503: busy' }]);
    await pending(ctx);
    await expect(ctx.worker.process(ctx.job(0))).rejects.toThrow('HTTP 503');
    expect((await ctx.held.find(HELD))?.status).toBe('event_pending');
    expect(ctx.published).toEqual([]);
  });

  it('the last transient failure gives the answer to the next answer and tells the agent', async () => {
    const ctx = setup([{ httpStatus: null, body: null, error: 'Event API unreachable: ECONNREFUSED' }]);
    await pending(ctx);
    expect(await ctx.worker.process(ctx.job(5))).toBe('failed');
    expect((await ctx.held.find(HELD))?.status).toBe('held');
    expect(ctx.published).toEqual([
      [
        'acct',
        {
          kind: 'error',
          data: expect.objectContaining({ code: 'KAKAO_EVENT_FAILED', messageId: HELD }),
        },
      ],
    ]);
  });

  it("Kakao's refusal is final at once", async () => {
    const ctx = setup([{ httpStatus: 200, body: { status: 'FAIL', message: 'no wallet' }, error: null }]);
    await pending(ctx);
    expect(await ctx.worker.process(ctx.job(0))).toBe('failed');
    expect((await ctx.held.find(HELD))?.status).toBe('held');
    expect(ctx.published).toHaveLength(1);
  });

  it('does nothing for an answer that is not event_pending any more', async () => {
    const ctx = setup([]);
    expect(await ctx.worker.process(ctx.job(0))).toBe('skipped');
    expect(ctx.calls).toEqual([]);
  });
});
