import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PushEndpointStore, PushRoute } from '@app/core';
import { PubSubService } from '@app/messaging';

/** How often every process reads all enabled endpoints again (the safety net of the invalidations). */
export const PUSH_ROUTES_REFRESH_MS = 30_000;

/** What the event path needs of the routing cache (`PushRoutes`), so unit tests can hand it a map. */
export abstract class PushRoutesLookup {
  abstract get(accountId: string): PushRoute | undefined;
}

/**
 * Which accounts have an enabled push endpoint, and for which events: held in memory by every process so the
 * webhook path asks no database ("no endpoint" costs a Map lookup). Loaded at start and every 30 s; a change
 * made on any replica is announced on the `push:endpoints` channel (the account id) and each process reads that
 * account's route again. A message stored in the instant before a replica heard of a new endpoint is picked up by
 * the message sweep (the endpoint's cursor starts at the account's sequence number when it was created).
 */
@Injectable()
export class PushRoutes implements PushRoutesLookup, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PushRoutes.name);
  private routes = new Map<string, PushRoute>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private offReconnect?: () => void;
  private readonly listeners = new Set<(accountId: string) => void>();

  constructor(
    private readonly store: PushEndpointStore,
    private readonly pubsub: PubSubService,
  ) {}

  async onModuleInit(): Promise<void> {
    const channel = this.pubsub.channel('push', 'endpoints');
    try {
      this.unsubscribe = await this.pubsub.subscribe(channel, (accountId) => void this.reload(accountId));
    } catch (e) {
      this.logger.warn(
        `push endpoint changes not subscribed (refreshing every 30 s): ${(e as Error).message}`,
      );
    }
    this.offReconnect = this.pubsub.onReconnect(() => void this.reloadAll());
    await this.reloadAll();
    this.timer = setInterval(() => void this.reloadAll(), PUSH_ROUTES_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.offReconnect?.();
  }

  /** The account's enabled endpoint, if any. */
  get(accountId: string): PushRoute | undefined {
    return this.routes.get(accountId);
  }

  /** Called with the account id whenever this process hears that the account's endpoint changed. */
  onChange(listener: (accountId: string) => void): void {
    this.listeners.add(listener);
  }

  /** Re-reads the account here and tells the other processes to. */
  async changed(accountId: string): Promise<void> {
    await this.reload(accountId);
    await this.pubsub
      .publish(this.pubsub.channel('push', 'endpoints'), accountId)
      .catch((e: Error) => this.logger.warn(`push endpoint change not announced: ${e.message}`));
  }

  private async reload(accountId: string): Promise<void> {
    for (const listener of this.listeners) listener(accountId);
    try {
      const [route] = await this.store.routes(accountId);
      if (route) this.routes.set(accountId, route);
      else this.routes.delete(accountId);
    } catch (e) {
      this.logger.warn(`push route of ${accountId} not read: ${(e as Error).message}`);
    }
  }

  private async reloadAll(): Promise<void> {
    try {
      const routes = await this.store.routes();
      this.routes = new Map(routes.map((r) => [r.accountId, r]));
    } catch (e) {
      this.logger.debug(`push routes not read: ${(e as Error).message}`);
    }
  }
}
