import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BotBinding, BotBindingInput, BotBindingStore, ChannelName } from '@app/core';
import { PubSubService, RedisService } from '@app/messaging';

/** The safety net behind the Pub/Sub invalidation: how often each replica checks the table's fingerprint. */
export const BOT_BINDINGS_REFRESH_MS = 5_000;

/** What a message's bot binding means for its user (server-mode.md §3). */
export type BotAccess =
  /** No binding, or the `pairing` policy: today's behaviour (pair with a code). */
  | { kind: 'pairing' }
  /** `open`, or `allowlist` naming the user: the message reaches `accountId` without `/pair`. */
  | { kind: 'bound'; accountId: string }
  /** `allowlist` without the user: refused, nothing stored. */
  | { kind: 'refused' };

interface CachedBinding {
  accountId: string;
  policy: BotBinding['policy'];
  allowlist: ReadonlySet<string>;
}

const PAIRING: BotAccess = Object.freeze({ kind: 'pairing' });
const REFUSED: BotAccess = Object.freeze({ kind: 'refused' });

function cacheKey(channel: ChannelName, botId: string): string {
  return `${channel}\n${botId}`;
}

/**
 * Every bot binding, held in memory on each replica, so that the webhook (thousands of requests a second) decides a
 * message's access without a database query. Kept current by:
 * - changes made through this class (the admin API): applied locally at once, then announced on the Redis channel
 *   `<prefix>:bot-bindings`, on which every replica reloads the table (typically within milliseconds);
 * - a fingerprint check (row count and latest `updated_at`) every `BOT_BINDINGS_REFRESH_MS` on every replica,
 *   reloading the table when it changed: the safety net for an announcement lost while Redis was away, and for
 *   bindings removed by an account's deletion (a cascade).
 * Until the first load succeeds (PostgreSQL away at start) every bot is treated as unbound (`pairing`).
 */
@Injectable()
export class BotBindings implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BotBindings.name);
  private bindings = new Map<string, CachedBinding>();
  private loadedFingerprint: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopListening: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: BotBindingStore,
    private readonly pubsub: PubSubService,
    private readonly redis: RedisService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.listen();
    await this.reload();
    this.timer = setInterval(() => void this.check(), BOT_BINDINGS_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    this.stopListening?.();
  }

  /**
   * Subscribes to the announcements once the subscriber connection is up — not before: a SUBSCRIBE queued while
   * Redis is away at start would wait for it (and hold up the shutdown). After an outage every replica reloads
   * (announcements may have been missed); ioredis resubscribes by itself.
   */
  private listen(): void {
    const subscribe = () => {
      if (this.stopped || this.unsubscribe) return;
      this.pubsub
        .subscribe(this.channel(), () => void this.reload())
        .then(
          (unsubscribe) => {
            if (this.stopped) unsubscribe();
            else this.unsubscribe = unsubscribe;
          },
          (e: Error) => this.logger.warn(`bot binding announcements unavailable: ${e.message}`),
        );
    };
    const subscriber = this.redis.subscriber;
    if (subscriber.status === 'ready') subscribe();
    else subscriber.once('ready', subscribe);
    const stopReconnect = this.pubsub.onReconnect(() => void this.reload());
    this.stopListening = () => {
      subscriber.off('ready', subscribe);
      stopReconnect();
    };
  }

  /** What the bot's binding means for this user; from memory, no I/O. */
  accessFor(channel: ChannelName, botId: string, userId: string): BotAccess {
    const binding = this.bindings.get(cacheKey(channel, botId));
    if (!binding || binding.policy === 'pairing') return PAIRING;
    if (binding.policy === 'allowlist' && !binding.allowlist.has(userId)) return REFUSED;
    return { kind: 'bound', accountId: binding.accountId };
  }

  /** Creates or replaces a binding (null: no such account); every replica follows within moments. */
  async set(input: BotBindingInput): Promise<{ binding: BotBinding; created: boolean } | null> {
    const result = await this.store.upsert({ ...input, allowlist: [...new Set(input.allowlist)] });
    if (result) this.apply(result.binding);
    await this.announce();
    return result;
  }

  /** Deletes a binding (false: there was none); the bot's users pair with a code again. */
  async remove(channel: ChannelName, botId: string): Promise<boolean> {
    const removed = await this.store.delete(channel, botId);
    this.bindings.delete(cacheKey(channel, botId));
    await this.announce();
    return removed;
  }

  /** Tells every replica to reload (also after something that removed bindings by cascade: an account's deletion). */
  async announce(): Promise<void> {
    try {
      await this.pubsub.publish(this.channel(), '{}');
    } catch (e) {
      // Redis away: the other replicas catch up with their next fingerprint check.
      this.logger.warn(`bot binding change not announced: ${(e as Error).message}`);
    }
  }

  /** Reloads every binding; concurrent calls coalesce into one more load after the running one. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.load();
        } while (this.again && !this.stopped);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async check(): Promise<void> {
    if (this.stopped || this.running) return;
    try {
      if ((await this.store.fingerprint()) !== this.loadedFingerprint) await this.reload();
    } catch (e) {
      this.logger.warn(`bot binding check failed: ${(e as Error).message}`);
    }
  }

  private async load(): Promise<void> {
    try {
      // The fingerprint first: a change between the two reads leaves it stale, so the next check reloads again.
      const fingerprint = await this.store.fingerprint();
      const rows = await this.store.all();
      const next = new Map<string, CachedBinding>();
      for (const row of rows) next.set(cacheKey(row.channel, row.botId), this.cached(row));
      this.bindings = next;
      this.loadedFingerprint = fingerprint;
    } catch (e) {
      this.logger.warn(`bot bindings not loaded: ${(e as Error).message}`);
    }
  }

  private apply(binding: BotBinding): void {
    this.bindings.set(cacheKey(binding.channel, binding.botId), this.cached(binding));
  }

  private cached(binding: BotBinding): CachedBinding {
    return {
      accountId: binding.accountId,
      policy: binding.policy,
      allowlist: new Set(binding.policy === 'allowlist' ? binding.allowlist : []),
    };
  }

  private channel(): string {
    return this.pubsub.channel('bot-bindings');
  }
}
