import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { FixedClock, SkillResponse } from '@app/core';
import type { CallbackSendJob } from '@app/messaging';
import { InMemoryReplyStore } from '@app/testing/in-memory-reply-store';
import { CallbackSendQueue } from './callback-send.queue';
import { SendSweeper } from './send-sweeper';

const ACCOUNT = '0190a5c4-0000-7000-8000-00000000000a';
const id = (n: number) => `0190a5c4-0000-7000-8000-${String(n).padStart(12, '0')}`;
const reply: SkillResponse = { version: '2.0', template: { outputs: [{ simpleText: { text: 'x' } }] } };

function setup() {
  const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
  const store = new InMemoryReplyStore(clock);
  const jobs: Array<{ data: CallbackSendJob; options: { jobId?: string; delay?: number } }> = [];
  const state = { down: false };
  const bull = {
    add: async (_name: string, data: CallbackSendJob, options: { jobId?: string; delay?: number }) => {
      if (state.down) throw new Error('Connection is closed.');
      jobs.push({ data, options });
      return {};
    },
  } as unknown as Queue<CallbackSendJob>;
  const sweeper = new SendSweeper(store, new CallbackSendQueue(bull, clock), clock);
  for (const n of [1, 2, 3, 4]) store.addMessage({ id: id(n), accountId: ACCOUNT });
  return { clock, store, jobs, state, sweeper };
}

describe('SendSweeper', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('queues, at once, the pending unclaimed sends overdue by more than 2 s, and only those', async () => {
    const { clock, store, jobs, sweeper } = setup();
    store.addSend(id(1), [reply], new Date(clock.now() - 2001)); // lost job
    store.addSend(id(2), [reply], new Date(clock.now() - 1000)); // due just now: its job is running
    store.addSend(id(3), [reply], new Date(clock.now() - 5000)).claimedAt = clock.date(); // in flight
    store.addSend(id(4), [reply], new Date(clock.now() - 9000)).status = 'sent';
    await expect(sweeper.sweep()).resolves.toBe(1);
    expect(jobs).toEqual([
      { data: { messageId: id(1) }, options: expect.objectContaining({ jobId: `send-${id(1)}`, delay: 0 }) },
    ]);
  });

  it('skips a tick while Redis is away, and catches up on the next', async () => {
    const { clock, store, jobs, state, sweeper } = setup();
    store.addSend(id(1), [reply], new Date(clock.now() - 3000));
    state.down = true;
    await expect(sweeper.sweep()).resolves.toBe(0);
    state.down = false;
    await expect(sweeper.sweep()).resolves.toBe(1);
    expect(jobs).toHaveLength(1);
  });
});
