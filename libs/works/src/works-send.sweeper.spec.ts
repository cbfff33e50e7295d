import { FixedClock, WorksSendStore } from '@app/core';
import { WorksSendQueue } from './works-send.queue';
import { WORKS_SEND_OVERDUE_AFTER_MS, WorksSendSweeper } from './works-send.sweeper';

describe('WorksSendSweeper', () => {
  const NOW = Date.UTC(2026, 10, 30, 4, 0, 0);

  function harness(unfinished: string[] | Error) {
    const asked: Array<{ before: Date; limit: number }> = [];
    const queued: string[][] = [];
    const store = {
      findUnfinished: async (before: Date, limit: number) => {
        asked.push({ before, limit });
        if (unfinished instanceof Error) throw unfinished;
        return unfinished;
      },
    } as unknown as WorksSendStore;
    const queue = { add: async (ids: string[]) => void queued.push(ids) } as unknown as WorksSendQueue;
    return { sweeper: new WorksSendSweeper(store, queue, new FixedClock(NOW)), asked, queued };
  }

  it('queues again the job of every send left unfinished past the overdue time', async () => {
    const h = harness(['s1', 's2']);
    expect(await h.sweeper.sweep()).toBe(2);
    expect(h.asked).toEqual([{ before: new Date(NOW - WORKS_SEND_OVERDUE_AFTER_MS), limit: 200 }]);
    expect(h.queued).toEqual([['s1', 's2']]);
  });

  it('skips a tick when PostgreSQL or Redis is away (the next tick tries again)', async () => {
    const h = harness(new Error('database away'));
    expect(await h.sweeper.sweep()).toBe(0);
    expect(h.queued).toEqual([]);
  });
});
