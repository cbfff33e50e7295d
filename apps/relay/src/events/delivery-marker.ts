import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InboundMessagesRepository } from '@app/persistence';

const FLUSH_DELAY_MS = 10;
const MAX_BATCH = 500;

/**
 * Marks messages written to a live stream as delivered, batched: one UPDATE per 10 ms however many streams wrote,
 * so a plain reconnect does not repeat them. A failed flush is retried with the next batch.
 */
@Injectable()
export class DeliveryMarker implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryMarker.name);
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly messages: InboundMessagesRepository) {}

  mark(messageId: string): void {
    this.pending.add(messageId);
    if (this.pending.size >= MAX_BATCH) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.size === 0) return this.flushing;
    const ids = [...this.pending];
    this.pending = new Set();
    this.flushing = this.flushing.then(async () => {
      try {
        await this.messages.markDelivered(ids);
      } catch (e) {
        this.logger.warn(`could not mark ${ids.length} messages delivered: ${(e as Error).message}`);
        for (const id of ids) this.pending.add(id);
        if (!this.timer) this.timer = setTimeout(() => void this.flush(), 1000);
      }
    });
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
  }
}
