import type { Queue } from 'bullmq';
import { FixedClock } from '@app/core';
import { CallbackSendJob, callbackSendJobId } from '@app/messaging';
import { CALLBACK_SEND_JOB_OPTIONS, CallbackSendQueue } from './callback-send.queue';

interface Added {
  name: string;
  data: CallbackSendJob;
  options: Record<string, unknown>;
}

function fakeQueue() {
  const added: Added[] = [];
  const state = { down: false };
  const queue = {
    add: async (name: string, data: CallbackSendJob, options: Record<string, unknown>) => {
      if (state.down) throw new Error('Connection is closed.');
      added.push({ name, data, options });
      return { id: options.jobId };
    },
  };
  return { queue: queue as unknown as Queue<CallbackSendJob>, added, state };
}

describe('CallbackSendQueue', () => {
  const messageId = '0190a5c4-0000-7000-8000-000000000001';
  const setup = () => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const fake = fakeQueue();
    return { ...fake, clock, sends: new CallbackSendQueue(fake.queue, clock) };
  };

  it('schedules the send at its instant, with the one job id and the shared options', async () => {
    const { sends, added, clock } = setup();
    await sends.schedule(messageId, clock.after(1200));
    expect(added).toEqual([
      {
        name: 'send',
        data: { messageId },
        options: {
          jobId: callbackSendJobId(messageId),
          delay: 1200,
          attempts: 3,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: true,
          removeOnFail: true,
        },
      },
    ]);
  });

  it('runs a send whose instant has passed at once', async () => {
    const { sends, added, clock } = setup();
    await sends.schedule(messageId, new Date(clock.now() - 3000));
    expect(added[0].options.delay).toBe(0);
  });

  it('queues again (the sweep) with the same job id and options as the reply endpoint', async () => {
    const { sends, added, clock } = setup();
    await sends.schedule(messageId, clock.after(500));
    await sends.scheduleNow(messageId);
    const [scheduled, requeued] = added.map(({ options: { delay: _delay, ...rest } }) => rest);
    expect(requeued).toEqual(scheduled);
    expect(requeued).toMatchObject({ ...CALLBACK_SEND_JOB_OPTIONS, jobId: callbackSendJobId(messageId) });
    expect(added[1].options.delay).toBe(0);
  });

  it('lets a Redis failure reach the caller (the request path fails fast, the sweep retries)', async () => {
    const { sends, state, clock } = setup();
    state.down = true;
    await expect(sends.schedule(messageId, clock.after(100))).rejects.toThrow('Connection is closed.');
  });
});
