import { OverloadedError } from './errors';
import { MicroBatcher } from './micro-batcher';

/** A run function whose batches the test finishes by hand. */
function controlledRun() {
  const calls: Array<{ items: number[]; finish: (fail?: Error) => void }> = [];
  const run = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        items,
        finish: (fail) => (fail ? reject(fail) : resolve(items.map((n) => `r${n}`))),
      });
    });
  return { calls, run };
}

describe('MicroBatcher', () => {
  it('refuses at once, with OverloadedError, what would wait beyond maxWaiting', async () => {
    const { calls, run } = controlledRun();
    const batcher = new MicroBatcher(run, { maxBatch: 2, maxInFlight: 1, maxWaiting: 3 });
    const answers = [1, 2, 3, 4].map((n) => batcher.submit(n)); // 1 runs, 2-4 wait
    expect(batcher.waiting).toBe(3);
    const refused = batcher.submit(5);
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toMatchObject({ statusCode: 503, headers: { 'Retry-After': '1' } });
    expect(batcher.waiting).toBe(3);
    // Room again once a batch left: accepted items are all answered, in order.
    calls[0].finish();
    await answers[0];
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    expect(batcher.waiting).toBe(1);
    const late = batcher.submit(6);
    calls[1].finish();
    await answers[2];
    calls[2].finish();
    await expect(Promise.all([...answers, late])).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r6']);
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4, 6]]);
  });

  it('with maxWaiting 0 takes only what can run at once', async () => {
    const { run } = controlledRun();
    const batcher = new MicroBatcher(run, { maxBatch: 10, maxInFlight: 1, maxWaiting: 0 });
    void batcher.submit(1);
    await expect(batcher.submit(2)).rejects.toBeInstanceOf(OverloadedError);
  });

  it('sends an item alone and at once when nothing is running', async () => {
    const { calls, run } = controlledRun();
    const batcher = new MicroBatcher(run, { maxBatch: 10, maxInFlight: 1 });
    const answer = batcher.submit(1);
    expect(calls.map((c) => c.items)).toEqual([[1]]);
    calls[0].finish();
    await expect(answer).resolves.toBe('r1');
  });

  it('gathers what arrives while a batch runs into the next batch, in order, up to maxBatch', async () => {
    const { calls, run } = controlledRun();
    const batcher = new MicroBatcher(run, { maxBatch: 3, maxInFlight: 1 });
    const answers = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));
    expect(calls.map((c) => c.items)).toEqual([[1]]);
    expect(batcher.waiting).toBe(5);
    calls[0].finish();
    await answers[0];
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1].finish();
    await answers[3];
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4], [5, 6]]);
    calls[2].finish();
    await expect(Promise.all(answers)).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  it('runs up to maxInFlight batches at once', () => {
    const { calls, run } = controlledRun();
    const batcher = new MicroBatcher(run, { maxBatch: 10, maxInFlight: 2 });
    for (const n of [1, 2, 3]) void batcher.submit(n);
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    expect(batcher.waiting).toBe(1);
  });

  it('rejects every item of a failed batch and goes on with the next one', async () => {
    const { calls, run } = controlledRun();
    const batcher = new MicroBatcher(run, { maxBatch: 10, maxInFlight: 1 });
    const first = batcher.submit(1);
    const second = batcher.submit(2);
    const third = batcher.submit(3);
    calls[0].finish(new Error('database away'));
    await expect(first).rejects.toThrow('database away');
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    calls[1].finish();
    await expect(Promise.all([second, third])).resolves.toEqual(['r2', 'r3']);
  });

  it('leaves an item that may not join for a later batch, keeping the others in order', async () => {
    const { calls, run } = controlledRun();
    const batcher = new MicroBatcher(run, {
      maxBatch: 10,
      maxInFlight: 1,
      canJoin: (item, batch) => !batch.some((b) => b % 10 === item % 10),
    });
    const answers = [100, 1, 11, 2, 21].map((n) => batcher.submit(n));
    calls[0].finish();
    await answers[0];
    expect(calls[1].items).toEqual([1, 2]);
    calls[1].finish();
    await answers[1];
    expect(calls[2].items).toEqual([11]);
    calls[2].finish();
    await answers[2];
    expect(calls[3].items).toEqual([21]);
    calls[3].finish();
    await expect(Promise.all(answers)).resolves.toEqual(['r100', 'r1', 'r11', 'r2', 'r21']);
  });

  it('rejects only the item whose result is a rejected promise', async () => {
    const batcher = new MicroBatcher<number, string>(
      (items) =>
        Promise.resolve(items.map((n) => (n === 2 ? Promise.reject(new Error('bad row')) : `r${n}`))),
      { maxBatch: 10, maxInFlight: 1 },
    );
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('rejects a batch whose run answers the wrong number of results', async () => {
    const batcher = new MicroBatcher<number, string>(() => Promise.resolve([]), {
      maxBatch: 10,
      maxInFlight: 1,
    });
    await expect(batcher.submit(1)).rejects.toThrow('batch of 1 answered 0 results');
  });

  describe('with lingerMs', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('holds a batch that is not full for lingerMs so that later items join it', async () => {
      const { calls, run } = controlledRun();
      const batcher = new MicroBatcher(run, { maxBatch: 3, maxInFlight: 1, lingerMs: 20 });
      const answers = [1, 2].map((n) => batcher.submit(n));
      jest.advanceTimersByTime(19);
      expect(calls).toEqual([]);
      const third = batcher.submit(3); // full: goes at once
      expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
      const fourth = batcher.submit(4);
      calls[0].finish();
      await expect(Promise.all([...answers, third])).resolves.toEqual(['r1', 'r2', 'r3']);
      // The next batch lingers again, counted from when it could have gone.
      expect(calls).toHaveLength(1);
      jest.advanceTimersByTime(20);
      expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [4]]);
      calls[1].finish();
      await expect(fourth).resolves.toBe('r4');
    });
  });
});
