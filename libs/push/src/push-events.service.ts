import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { Clock, MicroBatcher, NewPushDelivery, PushDeliveryStore, PushRoute } from '@app/core';
import { AccountEventTaps, ChannelEnvelope } from '@app/messaging';
import { PushDeliverer } from './push-deliverer';
import { PushDeliveryQueue } from './push-delivery.queue';
import { PushEvent, pushEventOf } from './push-events';
import { PushRoutesLookup } from './push-routes';

/** First attempts run in this process at most this many at a time; the next ones wait in memory for a turn. */
export const MAX_DIRECT_ATTEMPTS = 128;
/** Deliveries waiting for a direct attempt; beyond this many, they go to the queue (BullMQ) instead. */
export const MAX_DIRECT_WAITING = 8192;
/** A delivery that waited this long for a direct attempt goes to the queue instead. */
export const MAX_DIRECT_WAIT_MS = 5000;
/**
 * The overdue sweep leaves a new row alone this long past `PUSH_TIMEOUT_MS` (its direct attempt is running or
 * about to): only a row whose process died is queued again, not one being attempted (no second request).
 */
export const DIRECT_LEASE_MARGIN_MS = MAX_DIRECT_WAIT_MS + 5000;

/** The delivery row of an event for an endpoint. */
export function deliveryOf(route: PushRoute, event: PushEvent): NewPushDelivery {
  return {
    endpointId: route.endpointId,
    accountId: route.accountId,
    webhookId: event.webhookId,
    eventType: event.type,
    seq: event.seq,
    messageId: event.messageId,
    body: event.body,
  };
}

const keyOf = (d: { endpointId: string; webhookId: string }) => `${d.endpointId} ${d.webhookId}`;

/**
 * Turns the account events the relay publishes (`AccountEventTaps`) into deliveries: for an account with an
 * enabled endpoint subscribed to the event, one `push_deliveries` row (unique per endpoint and webhook id, so a
 * message published twice is delivered once; rows arriving together are inserted in one statement) and its
 * first attempt, made here at once (`PushDeliverer`); a retry, or a delivery beyond `MAX_DIRECT_ATTEMPTS` in
 * flight, goes on the queue. Never in the caller's way: the work runs after the publish, and a failure only logs
 * — a message's delivery is then made by the message sweep, a stored delivery whose attempt died with the
 * process is queued again by the overdue sweep; other events are best effort, like their stream events.
 */
@Injectable()
export class PushEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PushEvents.name);
  private off?: () => void;
  private direct = 0;
  private readonly waiting: Array<{ row: NewPushDelivery; id: string; since: number }> = [];
  private readonly inserts: MicroBatcher<NewPushDelivery, string | null>;

  constructor(
    private readonly taps: AccountEventTaps,
    private readonly routes: PushRoutesLookup,
    private readonly deliveries: PushDeliveryStore,
    private readonly queue: PushDeliveryQueue,
    private readonly deliverer: PushDeliverer,
    private readonly clock: Clock,
    @Inject(RELAY_CONFIG) private readonly config: Pick<RelayConfig, 'pushTimeoutMs'>,
  ) {
    this.inserts = new MicroBatcher((items) => this.insert(items), {
      maxBatch: 256,
      maxInFlight: 2,
      maxWaiting: 8192,
    });
  }

  onModuleInit(): void {
    this.off = this.taps.register((accountId, envelope) => this.onEvent(accountId, envelope));
  }

  onApplicationShutdown(): void {
    this.off?.();
  }

  onEvent(accountId: string, envelope: ChannelEnvelope): void {
    const route = this.routes.get(accountId);
    if (!route || !route.events.includes(envelope.kind as never)) return;
    const event = pushEventOf(envelope, this.clock.date());
    if (!event) return;
    void this.push(deliveryOf(route, event));
  }

  /** One statement for the batch; each item learns its new row's id (null: stored already, or a repeat). */
  private async insert(items: NewPushDelivery[]): Promise<(string | null)[]> {
    const rows = await this.deliveries.insert(items, this.config.pushTimeoutMs + DIRECT_LEASE_MARGIN_MS);
    // A webhook id is one event: the same id for two endpoints cannot happen in one process's batch (one
    // endpoint per account), so the webhook id names the item; a repeat within the batch gets null.
    const itemOf = new Map<string, NewPushDelivery>();
    for (const item of items) if (!itemOf.has(item.webhookId)) itemOf.set(item.webhookId, item);
    const byKey = new Map<string, string>();
    for (const row of rows) {
      const item = itemOf.get(row.webhookId);
      if (item) byKey.set(keyOf(item), row.id);
    }
    const taken = new Set<string>();
    return items.map((item) => {
      const key = keyOf(item);
      const id = byKey.get(key);
      if (!id || taken.has(key)) return null;
      taken.add(key);
      return id;
    });
  }

  private async push(row: NewPushDelivery): Promise<void> {
    let id: string | null;
    try {
      id = await this.inserts.submit(row);
    } catch (e) {
      this.logger.warn(`push of ${row.eventType} ${row.webhookId} not stored: ${(e as Error).message}`);
      return;
    }
    if (!id) return;
    if (this.direct < MAX_DIRECT_ATTEMPTS) return this.attempt(row, id);
    if (this.waiting.length < MAX_DIRECT_WAITING) {
      this.waiting.push({ row, id, since: this.clock.now() });
      return;
    }
    // Far behind: the queue's workers (on every worker replica) take it.
    await this.queue.add([id]).catch((e: Error) => this.logger.warn(`push ${id} not queued: ${e.message}`));
  }

  /** The first attempt here; then the next waiting delivery, if any. */
  private async attempt(row: NewPushDelivery, id: string): Promise<void> {
    this.direct += 1;
    try {
      const now = this.clock.now();
      const outcome = await this.deliverer.attempt({
        ...row,
        id,
        status: 'pending',
        attempts: 0,
        lastHttpStatus: null,
        lastError: null,
        latencyMs: null,
        replyError: null,
        nextAttemptAt: new Date(now),
        createdAt: new Date(now),
        deliveredAt: null,
      });
      if (outcome.kind === 'retry') {
        await this.queue.add([id], Math.max(0, outcome.retryAt - this.clock.now()));
      }
    } catch (e) {
      // The row is pending: the queue (or, if Redis refuses too, the overdue sweep) takes it from here.
      this.logger.warn(`push ${id}: first attempt not completed (${(e as Error).message}); queueing it`);
      await this.queue.add([id]).catch(() => undefined);
    } finally {
      this.direct -= 1;
    }
    let next = this.waiting.shift();
    const late: string[] = [];
    while (next && this.clock.now() - next.since > MAX_DIRECT_WAIT_MS) {
      late.push(next.id);
      next = this.waiting.shift();
    }
    if (late.length > 0) {
      await this.queue
        .add(late)
        .catch((e: Error) => this.logger.warn(`push: ${late.length} not queued: ${e.message}`));
    }
    if (next) await this.attempt(next.row, next.id);
  }
}
