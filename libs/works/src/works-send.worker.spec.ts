import { Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { parseConfig } from '@app/config';
import {
  FixedClock,
  NewWorksSends,
  WorksBotStore,
  WorksSend,
  WorksSendAttempt,
  WorksSendStore,
} from '@app/core';
import type { StreamEventPublisher, WorksSendJob } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { InMemoryWorksBotStore } from '@app/testing';
import type { WorksAccessTokens } from './works-access-tokens';
import type { WorksApiAnswer, WorksApiClient } from './works-api.client';
import type { WorksSendQueue } from './works-send.queue';
import { WorksSendWorker } from './works-send.worker';

class MemorySendStore extends WorksSendStore {
  readonly rows = new Map<string, WorksSend>();
  readonly attempts: Array<WorksSendAttempt & { id: string }> = [];

  enqueue(_sends: NewWorksSends): Promise<WorksSend[]> {
    throw new Error('not used');
  }

  find(id: string): Promise<WorksSend | null> {
    const row = this.rows.get(id);
    return Promise.resolve(row ? { ...row } : null);
  }

  firstUnfinishedBefore(conversationKey: string, seq: number) {
    const earlier = [...this.rows.values()]
      .filter((r) => r.conversationKey === conversationKey && r.seq < seq)
      .filter((r) => r.status === 'queued' || r.status === 'retrying')
      .sort((a, b) => a.seq - b.seq)[0];
    return Promise.resolve(
      earlier ? { id: earlier.id, status: earlier.status as 'queued' | 'retrying' } : null,
    );
  }

  findUnfinished(): Promise<string[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter((r) => r.status === 'queued' || r.status === 'retrying')
        .map((r) => r.id),
    );
  }

  recordAttempt(id: string, attempt: WorksSendAttempt): Promise<void> {
    const row = this.rows.get(id)!;
    row.attempts += 1;
    row.status = attempt.outcome;
    this.attempts.push({ id, ...attempt });
    return Promise.resolve();
  }
}

const BOT = {
  botId: 'bot-1',
  name: null,
  enabled: true,
  botSecret: 's',
  clientId: 'c',
  clientSecret: 'cs',
  serviceAccount: 'sa',
  privateKey: 'pem',
};

describe('WorksSendWorker', () => {
  let clock: FixedClock;
  let store: MemorySendStore;
  let bots: InMemoryWorksBotStore;
  let answers: WorksApiAnswer[];
  let posted: string[];
  let invalidated: string[];
  let events: Array<{ accountId: string; code: string; messageId?: string }>;
  let queued: string[];
  let worker: WorksSendWorker;
  let metrics: RelayMetrics;

  beforeAll(() => Logger.overrideLogger(false));

  function row(id: string, seq: number, extra: Partial<WorksSend> = {}): WorksSend {
    const send: WorksSend = {
      id,
      accountId: 'acc-1',
      inboundMessageId: null,
      target: { botId: 'bot-1', kind: 'user', id: 'u' },
      conversationKey: 'works:bot-1:u',
      seq,
      content: { type: 'text', text: id },
      status: 'queued',
      attempts: 0,
      createdAt: clock.date(),
      ...extra,
    };
    store.rows.set(id, send);
    return send;
  }

  function job(sendId: string) {
    const moveToDelayed = jest.fn((_at: number, _token?: string) => Promise.resolve());
    return { job: { data: { sendId }, moveToDelayed } as unknown as Job<WorksSendJob>, moveToDelayed };
  }

  beforeEach(() => {
    clock = new FixedClock();
    store = new MemorySendStore();
    bots = new InMemoryWorksBotStore([BOT]);
    answers = [];
    posted = [];
    invalidated = [];
    events = [];
    queued = [];
    let current = 'token-1';
    const tokens = {
      token: () => Promise.resolve(current),
      invalidate: (_bot: unknown, token: string) => {
        invalidated.push(token);
        current = 'token-2';
        return Promise.resolve(current);
      },
    } as unknown as WorksAccessTokens;
    const api = {
      send: (_t: unknown, _c: unknown, token: string) => {
        posted.push(token);
        return Promise.resolve(answers.shift() ?? { httpStatus: 201, retryAfter: null, error: null });
      },
    } as unknown as WorksApiClient;
    const queue = {
      add: (ids: string[]) => Promise.resolve(void queued.push(...ids)),
    } as unknown as WorksSendQueue;
    const publisher = {
      toAccount: (accountId: string, env: { data: { code: string; messageId?: string } }) => {
        events.push({ accountId, code: env.data.code, messageId: env.data.messageId });
        return Promise.resolve(1);
      },
    } as unknown as StreamEventPublisher;
    metrics = new RelayMetrics();
    worker = new WorksSendWorker(
      parseConfig({ WORKS_SEND_RETRY_SECONDS: '60' }),
      store,
      bots as WorksBotStore,
      tokens,
      api,
      queue,
      publisher,
      clock,
      metrics,
    );
  });

  it('sends and records one attempt', async () => {
    row('a', 1);
    await expect(worker.process(job('a').job, 't')).resolves.toBe('sent');
    expect(store.rows.get('a')).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await metrics.worksSends.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'sent' }, value: 1 }),
    ]);
  });

  it('waits behind an unfinished earlier message of its conversation and re-queues its job', async () => {
    row('a', 1, { status: 'retrying' });
    row('b', 2);
    const { job: j, moveToDelayed } = job('b');
    await expect(worker.process(j, 't')).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledWith(clock.now() + 1000, 't');
    expect(queued).toEqual(['a']);
    expect(posted).toEqual([]);
  });

  it('delays a 429 by Retry-After and records the attempt as retrying', async () => {
    row('a', 1);
    answers.push({ httpStatus: 429, retryAfter: '5', error: 'Works answered HTTP 429' });
    const { job: j, moveToDelayed } = job('a');
    await expect(worker.process(j, 't')).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledWith(clock.now() + 5000, 't');
    expect(store.attempts).toEqual([
      { id: 'a', outcome: 'retrying', httpStatus: 429, error: 'Works answered HTTP 429' },
    ]);
  });

  it('gives up on 5xx once the next try would fall outside WORKS_SEND_RETRY_SECONDS, and reports it', async () => {
    row('a', 1, { attempts: 6 });
    clock.advance(30_000);
    answers.push({ httpStatus: 502, retryAfter: null, error: 'Works answered HTTP 502' });
    await expect(worker.process(job('a').job, 't')).resolves.toBe('failed');
    expect(store.rows.get('a')).toMatchObject({ status: 'failed', attempts: 7 });
    expect(store.attempts[0].error).toMatch(/gave up after 7 attempts/);
    expect(events).toEqual([{ accountId: 'acc-1', code: 'WORKS_SEND_FAILED', messageId: 'a' }]);
  });

  it('renews the token once on 401; a second 401 fails', async () => {
    row('a', 1, { inboundMessageId: 'in-1' });
    answers.push(
      { httpStatus: 401, retryAfter: null, error: 'Works answered HTTP 401' },
      { httpStatus: 401, retryAfter: null, error: 'Works answered HTTP 401' },
    );
    await expect(worker.process(job('a').job, 't')).resolves.toBe('failed');
    expect(posted).toEqual(['token-1', 'token-2']);
    expect(invalidated).toEqual(['token-1']);
    expect(store.rows.get('a')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(events).toEqual([{ accountId: 'acc-1', code: 'WORKS_SEND_FAILED', messageId: 'in-1' }]);
  });

  it('fails the send of a bot that is not registered or disabled, without posting', async () => {
    row('a', 1, { target: { botId: 'unknown', kind: 'user', id: 'u' } });
    await expect(worker.process(job('a').job, 't')).resolves.toBe('failed');
    bots.add({ ...BOT, botId: 'off', enabled: false });
    row('b', 1, { target: { botId: 'off', kind: 'user', id: 'u' }, conversationKey: 'works:off:u' });
    await expect(worker.process(job('b').job, 't')).resolves.toBe('failed');
    expect(posted).toEqual([]);
    expect(store.attempts.map((a) => a.error)).toEqual([
      'Works bot unknown is not registered',
      'Works bot off is disabled',
    ]);
  });
});
