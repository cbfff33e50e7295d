import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RedisService } from './redis.service';

/**
 * Called with the message as published and `json`, which parses it once per message for all the local handlers
 * of its channel (throws when it is not JSON). The parsed value is shared: handlers must not change it.
 */
export type ChannelHandler = (message: string, json: () => unknown) => void;

export interface ChannelWait {
  result: Promise<string | null>;
  cancel(): void;
}

interface ChannelEntry {
  channel: string;
  handlers: Set<ChannelHandler>;
  /** Resolves once Redis confirmed the SUBSCRIBE for this channel. */
  ready: Promise<void>;
}

/**
 * Pub/Sub fan-out across replicas over the process's single subscriber connection. Local subscriptions are
 * reference-counted: the first handler of a channel subscribes it in Redis, the last one to leave
 * unsubscribes it, and one `message` listener dispatches to every local handler.
 */
@Injectable()
export class PubSubService implements OnModuleInit {
  private readonly logger = new Logger(PubSubService.name);
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly reconnectListeners = new Set<() => void>();
  private wasDown = false;

  constructor(private readonly redis: RedisService) {}

  onModuleInit(): void {
    this.redis.subscriber.on('message', (channel: string, message: string) =>
      this.dispatch(channel, message),
    );
    this.redis.subscriber.on('close', () => {
      this.wasDown = true;
    });
    this.redis.subscriber.on('ready', () => {
      if (!this.wasDown) return;
      this.wasDown = false;
      // ioredis resubscribes by itself; whatever was published meanwhile is caught up from PostgreSQL.
      for (const listener of this.reconnectListeners) {
        try {
          listener();
        } catch (e) {
          this.logger.error(`reconnect listener failed: ${(e as Error).message}`);
        }
      }
    });
  }

  channel(...parts: string[]): string {
    return this.redis.key(...parts);
  }

  /**
   * Adds a handler; resolves when the channel is subscribed in Redis (so nothing published afterwards is
   * missed). Returns the function that removes the handler again.
   */
  async subscribe(name: string, handler: ChannelHandler): Promise<() => void> {
    let entry = this.channels.get(name);
    // The unsubscribe function below holds the channel name for as long as the subscription lives: the entry's
    // own copy, so that every stream of a channel shares one string.
    const channel = entry?.channel ?? name;
    if (!entry) {
      const ready = this.redis.subscriber.subscribe(channel).then(
        () => undefined,
        (e: Error) => {
          this.logger.warn(`subscribe ${channel} failed: ${e.message}`);
        },
      );
      entry = { channel, handlers: new Set(), ready };
      this.channels.set(channel, entry);
    }
    entry.handlers.add(handler);
    const current = entry;
    let removed = false;
    const unsubscribe = () => {
      if (removed) return;
      removed = true;
      current.handlers.delete(handler);
      if (current.handlers.size === 0 && this.channels.get(channel) === current) {
        this.channels.delete(channel);
        this.redis.subscriber.unsubscribe(channel).catch((e: Error) => {
          this.logger.debug(`unsubscribe ${channel} failed: ${e.message}`);
        });
      }
    };
    await current.ready;
    return unsubscribe;
  }

  /** Publishes on the shared command connection; rejects at once while Redis is unreachable. */
  async publish(channel: string, message: string): Promise<number> {
    return this.redis.command.publish(channel, message);
  }

  /**
   * Subscribes to a channel for its next message. Resolves once subscribed (so nothing published afterwards is
   * missed); `result` gives the message, or null after the timeout or on cancel.
   */
  async waitForOne(channel: string, timeoutMs: number): Promise<ChannelWait> {
    let settle: (value: string | null) => void = () => undefined;
    const result = new Promise<string | null>((resolve) => (settle = resolve));
    let done = false;
    let unsubscribe: (() => void) | null = null;
    const finish = (value: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      settle(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const remove = await this.subscribe(channel, (message) => finish(message));
    if (done) remove();
    else unsubscribe = remove;
    return { result, cancel: () => finish(null) };
  }

  /** Called after the subscriber connection came back from an outage. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Number of channels this process is subscribed to (for tests and metrics). */
  get subscribedChannelCount(): number {
    return this.channels.size;
  }

  private dispatch(channel: string, message: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    let parsed: { value: unknown } | null = null;
    const json = (): unknown => (parsed ??= { value: JSON.parse(message) as unknown }).value;
    for (const handler of entry.handlers) {
      try {
        handler(message, json);
      } catch (e) {
        this.logger.error(`handler for ${channel} failed: ${(e as Error).message}`);
      }
    }
  }
}
