import { OverloadedError } from './errors';

export interface MicroBatcherOptions<I> {
  /** Most items in one batch. */
  maxBatch: number;
  /** Batches running at the same time. */
  maxInFlight: number;
  /**
   * Whether an item may join a batch that is being assembled (called with the items taken so far). An item
   * refused stays queued, in order, for a later batch; the first item of a batch is always taken.
   */
  canJoin?: (item: I, batch: readonly I[]) => boolean;
  /**
   * Most items waiting for a batch (not counting those running). An item submitted while that many wait is
   * refused at once with `OverloadedError`: memory stays bounded however slow `run` gets. Unset: no bound.
   */
  maxWaiting?: number;
  /**
   * For work in no one's way (a write behind): a batch that is not full waits this long after it could have gone,
   * so that more items join it — fewer, larger batches. Unset: no timer, an item goes out at once.
   */
  lingerMs?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O | PromiseLike<O>) => void;
  reject: (error: unknown) => void;
}

/**
 * Natural batching: an item submitted while nothing is running goes out alone, at once; items submitted while
 * `maxInFlight` batches run wait and leave together as the next batch. No timer, so no added latency when the
 * load is light, and one round trip for many items when it is heavy (`lingerMs` trades latency for larger batches
 * where no one waits for the result). `run` answers one result per item, in the
 * order given (a rejected promise for an item that failed alone); if it throws, every item of that batch is
 * rejected with the error.
 */
export class MicroBatcher<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private inFlight = 0;
  private lingering: NodeJS.Timeout | null = null;
  private lingered = false;

  constructor(
    private readonly run: (items: I[]) => Promise<Array<O | Promise<O>>>,
    private readonly options: MicroBatcherOptions<I>,
  ) {}

  submit(item: I): Promise<O> {
    const { maxWaiting } = this.options;
    const wouldWait = this.inFlight >= this.options.maxInFlight;
    if (maxWaiting !== undefined && wouldWait && this.queue.length >= maxWaiting) {
      return Promise.reject(new OverloadedError(`${this.queue.length} items are waiting already`));
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Items waiting for a batch (not those running). */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    const { lingerMs, maxBatch } = this.options;
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      if (lingerMs && !this.lingered && this.queue.length < maxBatch) {
        this.lingering ??= setTimeout(() => {
          this.lingering = null;
          this.lingered = true;
          this.pump();
          this.lingered = false;
        }, lingerMs);
        return;
      }
      const batch = this.take();
      this.inFlight += 1;
      void this.execute(batch);
    }
  }

  private take(): Array<Pending<I, O>> {
    const { maxBatch, canJoin } = this.options;
    if (!canJoin) return this.queue.splice(0, maxBatch);
    const taken: Array<Pending<I, O>> = [];
    const items: I[] = [];
    const left: Array<Pending<I, O>> = [];
    for (const pending of this.queue) {
      if (taken.length < maxBatch && (taken.length === 0 || canJoin(pending.item, items))) {
        taken.push(pending);
        items.push(pending.item);
      } else {
        left.push(pending);
      }
    }
    this.queue = left;
    return taken;
  }

  private async execute(batch: Array<Pending<I, O>>): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch of ${batch.length} answered ${results.length} results`);
      }
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.inFlight -= 1;
      this.pump();
    }
  }
}
