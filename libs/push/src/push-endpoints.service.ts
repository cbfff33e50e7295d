import { Injectable } from '@nestjs/common';
import {
  Clock,
  NotFoundError,
  PUSH_EVENT_NAMES,
  PushDelivery,
  PushDeliveryStore,
  PushEndpoint,
  PushEndpointStore,
  PushEventName,
} from '@app/core';
import { PushDeliveryQueue } from './push-delivery.queue';
import { PushRoutes } from './push-routes';
import { generatePushSecret } from './push-signing';
import { PushUrlPolicy } from './push-url-policy';

/** How long the previous secret keeps signing after a rotation (server-mode §2). */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3600 * 1000;

/** An endpoint as the API shows it; `secret` only when it was just made (create, rotate). */
export interface PushEndpointView {
  url: string;
  events: PushEventName[];
  enabled: boolean;
  disabledReason: string | null;
  /** Until when the previous secret still signs (after a rotation), else null. */
  previousSecretValidUntil: string | null;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export function endpointView(endpoint: PushEndpoint, now: number, secret?: string): PushEndpointView {
  const until = endpoint.previousSecretUntil;
  return {
    url: endpoint.url,
    events: endpoint.events,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    previousSecretValidUntil: until && until.getTime() > now ? until.toISOString() : null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
    ...(secret === undefined ? {} : { secret }),
  };
}

const notFound = () => new NotFoundError('PUSH_ENDPOINT_NOT_FOUND', 'This account has no push endpoint.');

/**
 * The push endpoint of an account, for the agent (`/v1/push-endpoint`) and the operator (admin API) alike: set
 * (creates it with a new secret, or changes URL and events and enables it again), read, delete, rotate the secret,
 * and redeliver a delivery. Every change is announced to the routing cache of every process.
 */
@Injectable()
export class PushEndpoints {
  constructor(
    private readonly store: PushEndpointStore,
    private readonly deliveries: PushDeliveryStore,
    private readonly queue: PushDeliveryQueue,
    private readonly routes: PushRoutes,
    private readonly policy: PushUrlPolicy,
    private readonly clock: Clock,
  ) {}

  async put(accountId: string, url: string, events?: PushEventName[]): Promise<PushEndpointView> {
    this.policy.validate(url);
    const wanted = events ? PUSH_EVENT_NAMES.filter((e) => events.includes(e)) : [...PUSH_EVENT_NAMES];
    const secret = generatePushSecret();
    const result = await this.store.upsert(accountId, url, wanted, secret);
    if (!result) throw new NotFoundError('ACCOUNT_NOT_FOUND', 'No account with this id.');
    const { endpoint, created } = result;
    await this.routes.changed(accountId);
    return endpointView(endpoint, this.clock.now(), created ? secret : undefined);
  }

  async get(accountId: string): Promise<PushEndpointView> {
    const endpoint = await this.store.findByAccount(accountId);
    if (!endpoint) throw notFound();
    return endpointView(endpoint, this.clock.now());
  }

  async delete(accountId: string): Promise<void> {
    if (!(await this.store.delete(accountId))) throw notFound();
    await this.routes.changed(accountId);
  }

  async rotateSecret(accountId: string): Promise<PushEndpointView> {
    const secret = generatePushSecret();
    const until = new Date(this.clock.now() + PREVIOUS_SECRET_VALID_MS);
    const endpoint = await this.store.rotateSecret(accountId, secret, until);
    if (!endpoint) throw notFound();
    await this.routes.changed(accountId);
    return endpointView(endpoint, this.clock.now(), secret);
  }

  /** A new attempt of a delivered or failed delivery, same webhook id (admin). */
  async redeliver(deliveryId: string): Promise<PushDelivery> {
    const delivery = await this.deliveries.redeliver(deliveryId, this.clock.date());
    if (!delivery) {
      const existing = await this.deliveries.find(deliveryId);
      if (!existing) throw new NotFoundError('PUSH_DELIVERY_NOT_FOUND', 'No push delivery with this id.');
      return existing; // pending already: its job runs anyway
    }
    await this.queue.add([delivery.id]);
    return delivery;
  }
}
