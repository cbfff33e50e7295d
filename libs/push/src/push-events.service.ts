import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  Clock,
  MicroBatcher,
  NewPushDelivery,
  PushDelivery,
  PushDeliveryStore,
  PushRoute,
  uuidV7,
} from '@app/core';
import { AccountEventTaps, ChannelEnvelope } from '@app/messaging';
import { AttemptOutcome, PushDeliverer } from './push-deliverer';
import { PushDeliveryQueue } from './push-delivery.queue';
import { PushEvent, pushEventOf } from './push-events';
import { PushRoutesLookup } from './push-routes';

/** First attempts run in this process at most this many at a time; the next ones wait in memory for a turn. */
export const MAX_DIRECT_ATTEMPTS = 128;
/** Deliveries waiting for a direct attempt; beyond this many, they go to the queue (BullMQ) instead. */
export const MAX_DIRECT_WAITING = 8192;
/** A delivery that waited this long for a direct attempt goes to the queue instead. */
export const MAX_DIRECT_WAIT_MS = 5000;
/** How many recent events this process remembers, so that an event tapped twice is attempted once. */
export const RECENT_EVENTS = 10_000;

/**
 * How long after a message was stored its row may still be missing because the live path is attempting it: the
 * attempt starts within `MAX_DIRECT_WAIT_MS` (or the delivery is stored and queued) and ends within the timeout,
 * then the row is written. The message sweep leaves younger messages alone, so it never sends a delivery a second
 * time while the first attempt is in flight.
 */
export function liveAttemptWindowMs(pushTimeoutMs: number): number {
  return MAX_DIRECT_WAIT_MS + pushTimeoutMs + 3000;
}

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

/** A delivery made in this process: its body in memory (a stored message's delivery is stored without it). */
type LiveDelivery = PushDelivery & { body: string };

/**
 * Turns the account events the relay publishes (`AccountEventTaps`) into deliveries, for an account with an enabled
 * endpoint subscribed to the event. The first attempt is made here at once (`PushDeliverer`), before anything is
 * stored: the delivery's row (unique per endpoint and webhook id) is written with the attempt's outcome, in one
 * statement with the others that finish together — one write per delivery, and no database round trip between the
 * webhook and the receiver. A retry goes on the queue (BullMQ), delayed to its time; a delivery beyond
 * `MAX_DIRECT_ATTEMPTS` in flight waits in memory for a turn, or, past `MAX_DIRECT_WAITING` or `MAX_DIRECT_WAIT_MS`,
 * is stored pending and queued. Never in the caller's way: the work runs after the publish, and a failure only
 * logs. What a dying process leaves unstored is a message's delivery that the message sweep makes (after
 * `liveAttemptWindowMs`, with the same webhook-id: at-least-once, as Standard Webhooks has it); other events are
 * best effort, like their stream events.
 */
@Injectable()
export class PushEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PushEvents.name);
  private off?: () => void;
  private direct = 0;
  private readonly waiting: Array<{ delivery: LiveDelivery; since: number }> = [];
  /** The overflow's inserts (stored pending, then queued); each learns whether its row was stored. */
  private readonly inserts: MicroBatcher<LiveDelivery, boolean>;
  /** Events seen lately (endpoint and webhook id), oldest first in `recentOrder`. */
  private readonly recent = new Set<string>();
  private readonly recentOrder: string[] = [];

  constructor(
    private readonly taps: AccountEventTaps,
    private readonly routes: PushRoutesLookup,
    private readonly deliveries: PushDeliveryStore,
    private readonly queue: PushDeliveryQueue,
    private readonly deliverer: PushDeliverer,
    private readonly clock: Clock,
  ) {
    this.inserts = new MicroBatcher(
      async (items) => {
        const stored = new Set(await this.deliveries.insert(items));
        return items.map((item) => stored.has(item.id));
      },
      { maxBatch: 256, maxInFlight: 2, maxWaiting: 8192 },
    );
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
    const now = this.clock.date();
    const event = pushEventOf(envelope, now);
    if (!event) return;
    const row = deliveryOf(route, event);
    if (!this.firstSight(row)) return;
    const delivery: LiveDelivery = {
      ...row,
      id: uuidV7(now.getTime()),
      status: 'pending',
      attempts: 0,
      lastHttpStatus: null,
      lastError: null,
      latencyMs: null,
      replyError: null,
      nextAttemptAt: now,
      createdAt: now,
      deliveredAt: null,
    };
    if (this.direct < MAX_DIRECT_ATTEMPTS) void this.attempt(delivery);
    else if (this.waiting.length < MAX_DIRECT_WAITING) this.waiting.push({ delivery, since: now.getTime() });
    // Far behind: the queue's workers (on every worker replica) take it.
    else void this.storeAndQueue([delivery]);
  }

  /** Remembers the event; false when it was seen lately (published twice: attempted once). */
  private firstSight(row: NewPushDelivery): boolean {
    const key = keyOf(row);
    if (this.recent.has(key)) return false;
    this.recent.add(key);
    this.recentOrder.push(key);
    if (this.recentOrder.length > RECENT_EVENTS) {
      this.recent.delete(this.recentOrder.shift() as string);
    }
    return true;
  }

  /** Deliveries this process will not attempt itself: stored pending and queued for the workers. */
  private async storeAndQueue(deliveries: LiveDelivery[]): Promise<void> {
    let ids: string[];
    try {
      const stored = await Promise.all(deliveries.map((d) => this.inserts.submit(d)));
      ids = deliveries.filter((_, i) => stored[i]).map((d) => d.id);
    } catch (e) {
      this.logger.warn(`push: ${deliveries.length} delivery(ies) not stored: ${(e as Error).message}`);
      return;
    }
    // Not queued (Redis away): the overdue sweep queues the pending rows later.
    await this.queue
      .add(ids)
      .catch((e: Error) => this.logger.warn(`push: ${ids.length} not queued: ${e.message}`));
  }

  /** The first attempt here; then the next waiting delivery, if any. */
  private async attempt(delivery: LiveDelivery): Promise<void> {
    this.direct += 1;
    let outcome: AttemptOutcome | null = null;
    try {
      outcome = await this.deliverer.attempt(delivery, false);
    } catch (e) {
      // Nothing stored: a message's delivery is made by the message sweep; other events are best effort.
      this.logger.warn(
        `push ${delivery.eventType} ${delivery.webhookId}: first attempt not completed: ${(e as Error).message}`,
      );
    } finally {
      this.direct -= 1;
    }
    if (outcome?.kind === 'retry') {
      // Stored pending with its next try: if Redis refuses the job, the overdue sweep queues it.
      await this.queue
        .add([delivery.id], Math.max(0, outcome.retryAt - this.clock.now()))
        .catch((e: Error) => this.logger.warn(`push ${delivery.id}: retry not queued: ${e.message}`));
    }
    let next = this.waiting.shift();
    const late: LiveDelivery[] = [];
    while (next && this.clock.now() - next.since > MAX_DIRECT_WAIT_MS) {
      late.push(next.delivery);
      next = this.waiting.shift();
    }
    if (late.length > 0) await this.storeAndQueue(late);
    if (next) await this.attempt(next.delivery);
  }
}
