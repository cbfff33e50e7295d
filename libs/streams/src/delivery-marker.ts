import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InboundMessageStore } from '@app/core';

const FLUSH_DELAY_MS = 10;

/**
 * Records what live streams wrote, batched: per account the highest sequence number written, one statement per
 * 10 ms however many streams wrote, so a plain reconnect does not repeat them (see
 * `InboundMessageStore.markDelivered`). A failed flush is merged into the next one.
 */
@Injectable()
export class DeliveryMarker implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryMarker.name);
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly messages: InboundMessageStore) {}

  mark(accountId: string, seq: number): void {
    this.merge(accountId, seq);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  private merge(accountId: string, seq: number): void {
    const known = this.pending.get(accountId);
    if (known === undefined || seq > known) this.pending.set(accountId, seq);
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.size === 0) return this.flushing;
    const marks = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      try {
        await this.messages.markDelivered(marks);
      } catch (e) {
        this.logger.warn(`could not record deliveries of ${marks.size} accounts: ${(e as Error).message}`);
        for (const [accountId, seq] of marks) this.merge(accountId, seq);
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.flush(), 1000);
      }
    });
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
  }
}
