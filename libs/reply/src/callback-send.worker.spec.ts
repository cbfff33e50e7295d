import { Logger } from '@nestjs/common';
import { DelayedError } from 'bullmq';
import { parseConfig } from '@app/config';
import { FixedClock, SkillResponse } from '@app/core';
import type { ChannelEnvelope, PubSubService, StreamEventPublisher } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { InMemoryReplyStore } from '@app/testing/in-memory-reply-store';
import type { AttemptResult } from './callback-http.client';
import type { CallbackSender, DeliveryResult } from './callback-sender';
import { CallbackSendWorker } from './callback-send.worker';

const ACCOUNT = '0190a5c4-0000-7000-8000-00000000000a';
const MESSAGE = '0190a5c4-0000-7000-8000-000000000001';
const CALLBACK = 'https://bot-api.kakao.com/v1/callback/abc';

type SendJob = Parameters<CallbackSendWorker['process']>[0];

const text = (t: string, quickReplies?: unknown[]): SkillResponse => ({
  version: '2.0',
  template: { outputs: [{ simpleText: { text: t } }], ...(quickReplies ? { quickReplies } : {}) },
});

const attempt = (over: Partial<AttemptResult>): AttemptResult => ({
  httpStatus: 200,
  kakaoStatus: 'SUCCESS',
  ok: true,
  transient: false,
  error: null,
  ...over,
});

/** The sender plays back attempts (each reported like the real one does) and answers `result`. */
function fakeSender() {
  const calls: Array<{ url: string; response: SkillResponse; deadline: number }> = [];
  const script: { attempts: AttemptResult[]; result: DeliveryResult } = {
    attempts: [attempt({})],
    result: { ok: true, attempts: 1, httpStatus: 200, error: null },
  };
  const sender = {
    deliver: async (
      url: string,
      response: SkillResponse,
      deadline: number,
      onAttempt: (n: number, r: AttemptResult) => Promise<void>,
    ) => {
      calls.push({ url, response, deadline });
      for (const [i, a] of script.attempts.entries()) await onAttempt(i + 1, a);
      return script.result;
    },
  };
  return { sender: sender as unknown as CallbackSender, calls, script };
}

function fakePubSub() {
  const published: Array<{ channel: string; message: string }> = [];
  const state = { receivers: 1, down: false };
  const pubsub = {
    channel: (...parts: string[]) => parts.join(':'),
    publish: async (channel: string, message: string) => {
      if (state.down) throw new Error('Connection is closed.');
      published.push({ channel, message });
      return state.receivers;
    },
  };
  return { pubsub: pubsub as unknown as PubSubService, published, state };
}

function fakeEvents() {
  const sent: Array<{ accountId: string; envelope: ChannelEnvelope }> = [];
  const events = {
    toAccount: async (accountId: string, envelope: ChannelEnvelope) => {
      sent.push({ accountId, envelope });
      return 1;
    },
  };
  return { events: events as unknown as StreamEventPublisher, sent };
}

function job(messageId = MESSAGE) {
  const moved: Array<[number, string | undefined]> = [];
  const value = {
    data: { messageId },
    moveToDelayed: async (at: number, token?: string) => void moved.push([at, token]),
  };
  return { job: value as unknown as SendJob, moved };
}

function setup() {
  const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
  const store = new InMemoryReplyStore(clock);
  const sender = fakeSender();
  const pubsub = fakePubSub();
  const events = fakeEvents();
  const metrics = new RelayMetrics();
  const worker = new CallbackSendWorker(
    parseConfig({}),
    store,
    sender.sender,
    pubsub.pubsub,
    events.events,
    metrics,
    clock,
  );
  const message = store.addMessage({
    id: MESSAGE,
    accountId: ACCOUNT,
    callbackUrl: CALLBACK,
    createdAt: clock.date(),
    replyDeadline: clock.after(55_000),
  });
  return { clock, store, sender, pubsub, events, metrics, worker, message };
}

const counter = async (metrics: RelayMetrics, labels: { outcome: string; mode: string }) =>
  (await metrics.callbackSends.get()).values.find(
    (v) => v.labels.outcome === labels.outcome && v.labels.mode === labels.mode,
  )?.value ?? 0;

describe('CallbackSendWorker', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('claims a due send, merges its replies, sends them once and records "sent"', async () => {
    const { worker, store, sender, pubsub, events, clock, metrics, message } = setup();
    store.addSend(MESSAGE, [text('one'), text('two', [{ label: 'a' }]), text('three', [{ label: 'b' }])]);
    clock.advance(1200);
    await expect(worker.process(job().job, 'token')).resolves.toBe('sent');
    expect(sender.calls).toEqual([
      {
        url: CALLBACK,
        response: {
          version: '2.0',
          template: {
            outputs: [{ simpleText: { text: 'one\n\ntwo\n\nthree' } }],
            quickReplies: [{ label: 'b' }],
          },
        },
        // Kakao keeps the URL 59 s from its request; the reply deadline (55 s) + 4 s grace is the same here.
        deadline: message.createdAt.getTime() + 59_000,
      },
    ]);
    const send = store.sendOf(MESSAGE)!;
    expect(send).toMatchObject({ status: 'sent', attempts: 1, lastHttpStatus: 200, error: null });
    expect(send.sentAt).toEqual(clock.date());
    expect(store.messages.get(MESSAGE)?.status).toBe('replied');
    expect(pubsub.published).toEqual([
      {
        channel: `outcome:${MESSAGE}`,
        message: JSON.stringify({ status: 'sent', deliveredAt: clock.now() }),
      },
    ]);
    expect(events.sent).toEqual([]);
    expect(await counter(metrics, { outcome: 'sent', mode: 'callback' })).toBe(1);
  });

  it('sends by the earlier of the reply deadline + 4 s and 59 s after the request', async () => {
    const { worker, store, sender, clock, message } = setup();
    message.replyDeadline = clock.after(10_000);
    store.addSend(MESSAGE, [text('x')]);
    await worker.process(job().job);
    expect(sender.calls[0].deadline).toBe(clock.now() + 14_000);
  });

  it('puts itself back when later replies moved send_after past now', async () => {
    const { worker, store, sender, clock } = setup();
    store.addSend(MESSAGE, [text('one')], clock.after(700));
    const { job: j, moved } = job();
    await expect(worker.process(j, 'lock-token')).rejects.toBeInstanceOf(DelayedError);
    expect(moved).toEqual([[clock.now() + 700, 'lock-token']]);
    expect(sender.calls).toEqual([]);
    expect(store.sendOf(MESSAGE)?.claimedAt).toBeNull();
  });

  it('runs a send due within 5 ms now rather than re-delaying it', async () => {
    const { worker, store, clock } = setup();
    store.addSend(MESSAGE, [text('x')], clock.after(5));
    await expect(worker.process(job().job)).resolves.toBe('sent');
  });

  it('skips a message with nothing pending (sent already, or no reply at all)', async () => {
    const { worker, store, sender, clock } = setup();
    await expect(worker.process(job().job)).resolves.toBe('skipped');
    store.addSend(MESSAGE, [text('x')]);
    await worker.process(job().job);
    clock.advance(10);
    await expect(worker.process(job().job)).resolves.toBe('skipped');
    expect(sender.calls).toHaveLength(1);
  });

  it('records a failed send, and tells the waiting reply and the account streams, naming the message', async () => {
    const { worker, store, sender, pubsub, events, metrics } = setup();
    sender.script.attempts = [
      attempt({ httpStatus: 500, ok: false, transient: true, error: 'Kakao answered HTTP 500' }),
      attempt({ httpStatus: 500, ok: false, transient: true, error: 'Kakao answered HTTP 500' }),
    ];
    sender.script.result = {
      ok: false,
      attempts: 2,
      httpStatus: 500,
      error: 'Kakao answered HTTP 500 (after 2 attempts)',
    };
    store.addSend(MESSAGE, [text('x')]);
    await expect(worker.process(job().job)).resolves.toBe('failed');
    expect(store.sendOf(MESSAGE)).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastHttpStatus: 500,
      error: 'Kakao answered HTTP 500 (after 2 attempts)',
    });
    expect(store.messages.get(MESSAGE)?.status).toBe('failed');
    expect(JSON.parse(pubsub.published[0].message)).toEqual({
      status: 'failed',
      error: 'Kakao answered HTTP 500 (after 2 attempts)',
    });
    expect(events.sent).toEqual([
      {
        accountId: ACCOUNT,
        envelope: {
          kind: 'error',
          data: {
            code: 'CALLBACK_FAILED',
            message: `The reply to message ${MESSAGE} did not reach Kakao: Kakao answered HTTP 500 (after 2 attempts)`,
            messageId: MESSAGE,
          },
        },
      },
    ]);
    expect(await counter(metrics, { outcome: 'failed', mode: 'callback' })).toBe(1);
  });

  it('numbers attempts after those of an earlier run of the job', async () => {
    const { worker, store, sender } = setup();
    const send = store.addSend(MESSAGE, [text('x')]);
    send.attempts = 2;
    const seen: number[] = [];
    const record = store.recordAttempt.bind(store);
    store.recordAttempt = async (id, attempts, status, error) => {
      seen.push(attempts);
      return record(id, attempts, status, error);
    };
    sender.script.attempts = [attempt({ ok: false, transient: true }), attempt({})];
    await worker.process(job().job);
    expect(seen).toEqual([3, 4]);
  });

  it('counts a URL the policy refused as "refused"', async () => {
    const { worker, store, sender, metrics } = setup();
    sender.script.attempts = [];
    sender.script.result = {
      ok: false,
      attempts: 0,
      httpStatus: null,
      error: 'refused: callback host evil.example is not in KAKAO_CALLBACK_ALLOWED_HOSTS',
    };
    store.addSend(MESSAGE, [text('x')]);
    await expect(worker.process(job().job)).resolves.toBe('failed');
    expect(await counter(metrics, { outcome: 'refused', mode: 'callback' })).toBe(1);
  });

  it('fails a callback-mode send without a callback URL without calling the sender', async () => {
    const { worker, store, sender, message } = setup();
    store.addSend(MESSAGE, [text('x')]);
    store.sendOf(MESSAGE)!.mode = 'callback';
    message.callbackUrl = null;
    await expect(worker.process(job().job)).resolves.toBe('failed');
    expect(sender.calls).toEqual([]);
    expect(store.sendOf(MESSAGE)?.error).toBe('no callback URL');
  });

  describe('inline mode', () => {
    const inlineSetup = () => {
      const s = setup();
      s.message.callbackUrl = null;
      s.store.addSend(MESSAGE, [text('a'), text('b')]);
      return s;
    };

    it('hands the merged response to the webhook waiting on any replica', async () => {
      const { worker, pubsub, sender, store } = inlineSetup();
      await expect(worker.process(job().job)).resolves.toBe('sent');
      expect(sender.calls).toEqual([]);
      expect(pubsub.published[0]).toEqual({
        channel: `inline:${MESSAGE}`,
        message: JSON.stringify({
          version: '2.0',
          template: { outputs: [{ simpleText: { text: 'a\n\nb' } }] },
        }),
      });
      expect(store.sendOf(MESSAGE)?.status).toBe('sent');
    });

    it('records a failure when no webhook was waiting any more', async () => {
      const { worker, pubsub, store } = inlineSetup();
      pubsub.state.receivers = 0;
      await expect(worker.process(job().job)).resolves.toBe('failed');
      expect(store.sendOf(MESSAGE)?.error).toBe('the Kakao request was no longer waiting for the reply');
    });

    it('records a failure when Redis refused the hand-over, and still finishes the job', async () => {
      const { worker, pubsub, store } = inlineSetup();
      pubsub.state.down = true;
      await expect(worker.process(job().job)).resolves.toBe('failed');
      expect(store.sendOf(MESSAGE)?.error).toBe('could not hand the reply over: Connection is closed.');
    });
  });
});
