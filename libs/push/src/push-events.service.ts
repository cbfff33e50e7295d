import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Clock, NewPushDelivery, PushDeliveryStore, PushRoute } from '@app/core';
import { AccountEventTaps, ChannelEnvelope } from '@app/messaging';
import { PushDeliveryQueue } from './push-delivery.queue';
import { PushEvent, pushEventOf } from './push-events';
import { PushRoutesLookup } from './push-routes';

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

/**
 * Turns the account events the relay publishes (`AccountEventTaps`) into deliveries: for an account with an
 * enabled endpoint subscribed to the event, one `push_deliveries` row (unique per endpoint and webhook id, so a
 * message published twice is delivered once) and its job. Never in the caller's way: the work runs after the
 * publish, and a failure only logs — a message's delivery is then made by the message sweep, from PostgreSQL;
 * other events are best effort, like their stream events.
 */
@Injectable()
export class PushEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PushEvents.name);
  private off?: () => void;

  constructor(
    private readonly taps: AccountEventTaps,
    private readonly routes: PushRoutesLookup,
    private readonly deliveries: PushDeliveryStore,
    private readonly queue: PushDeliveryQueue,
    private readonly clock: Clock,
  ) {}

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
    void this.push(route, event);
  }

  private async push(route: PushRoute, event: PushEvent): Promise<void> {
    try {
      const ids = await this.deliveries.insert([deliveryOf(route, event)]);
      await this.queue.add(ids);
    } catch (e) {
      this.logger.warn(`push of ${event.type} ${event.webhookId} not queued: ${(e as Error).message}`);
    }
  }
}
