import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { Clock, PushDeliveryStore, PushEndpointStore, uuidV7 } from '@app/core';
import { messageEventData } from '@app/messaging';
import { PushDeliveryQueue } from './push-delivery.queue';
import { deliveryOf, liveAttemptWindowMs } from './push-events.service';
import { pushEventOf } from './push-events';

export const PUSH_MESSAGE_SWEEP_EVERY_MS = 2000;
export const PUSH_OVERDUE_SWEEP_EVERY_MS = 5000;
/** A pending delivery this far past its next try may have lost its job (Redis lost it, or never took it). */
export const PUSH_OVERDUE_AFTER_MS = 10_000;
const MESSAGE_WINDOW = 1000;
const OVERDUE_BATCH = 500;

/**
 * Nothing stored is lost (server-mode §2): a message whose delivery was never stored (the relay died between
 * storing the message and writing the delivery's first attempt, PostgreSQL refused that write) is found from the
 * endpoint's cursor — every message above it that has no delivery gets one, in sequence order, and is queued — and
 * the cursor moves past what is settled. A message is settled when the live path's attempt is surely over
 * (`liveAttemptWindowMs`: the timeout and the longest wait for a turn, 18 s by default); the cursor only moves
 * over settled messages, read in sequence order and stopping at the first younger one: sequence numbers are
 * committed in order per account, so nothing lower can appear later.
 * Idempotent (unique endpoint + webhook id, deterministic job ids): every worker replica may run it.
 */
@Injectable()
export class PushMessageSweeper {
  private readonly logger = new Logger(PushMessageSweeper.name);
  private running = false;

  private readonly settleMs: number;

  constructor(
    private readonly endpoints: PushEndpointStore,
    private readonly deliveries: PushDeliveryStore,
    private readonly queue: PushDeliveryQueue,
    private readonly clock: Clock,
    @Inject(RELAY_CONFIG) config: Pick<RelayConfig, 'pushTimeoutMs'>,
  ) {
    this.settleMs = liveAttemptWindowMs(config.pushTimeoutMs);
  }

  @Interval(PUSH_MESSAGE_SWEEP_EVERY_MS)
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let made = 0;
    try {
      for (const { endpointId, accountId, cursor } of await this.endpoints.messageCursors()) {
        made += await this.sweepEndpoint(endpointId, accountId, cursor);
      }
    } catch (e) {
      this.logger.debug(`push message sweep skipped: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
    return made;
  }

  private async sweepEndpoint(endpointId: string, accountId: string, cursor: number): Promise<number> {
    const settledBefore = new Date(this.clock.now() - this.settleMs);
    const upTo = await this.endpoints.settledSeqAfter(accountId, cursor, settledBefore, MESSAGE_WINDOW);
    if (upTo <= cursor) return 0;
    const missing = await this.endpoints.messagesWithoutDelivery(endpointId, accountId, cursor, upTo);
    const route = { endpointId, accountId, events: [] };
    const rows = missing.flatMap((message) => {
      const event = pushEventOf(
        { kind: 'message', seq: message.seq, data: messageEventData(message) },
        this.clock.date(),
      );
      return event ? [{ ...deliveryOf(route, event), id: uuidV7() }] : [];
    });
    const ids = await this.deliveries.insert(rows);
    await this.queue.add(ids);
    await this.endpoints.advanceCursor(endpointId, upTo);
    if (ids.length > 0)
      this.logger.log(`push: ${ids.length} stored message(s) of ${accountId} had no delivery`);
    return ids.length;
  }
}

/** Pending deliveries whose job Redis lost (or never took): their jobs are queued again (same ids). */
@Injectable()
export class PushOverdueSweeper {
  private readonly logger = new Logger(PushOverdueSweeper.name);
  private running = false;

  constructor(
    private readonly deliveries: PushDeliveryStore,
    private readonly queue: PushDeliveryQueue,
    private readonly clock: Clock,
  ) {}

  @Interval(PUSH_OVERDUE_SWEEP_EVERY_MS)
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const ids = await this.deliveries.findOverdue(
        new Date(this.clock.now() - PUSH_OVERDUE_AFTER_MS),
        OVERDUE_BATCH,
      );
      await this.queue.add(ids);
      return ids.length;
    } catch (e) {
      this.logger.debug(`push overdue sweep skipped: ${(e as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
