import type { ChannelName } from '../channels/channel-adapter';
import { parseWorksConversationKey } from './works-send-store.port';

/**
 * How a bound bot treats its users (server-mode.md §3): `pairing` — today's behaviour, every user pairs with a code;
 * `open` — every user of the bot reaches the bound account without `/pair`; `allowlist` — only the listed users do,
 * the others are politely refused and nothing of theirs is stored.
 */
export type BotBindingPolicy = 'pairing' | 'open' | 'allowlist';

export const BOT_BINDING_POLICIES: readonly BotBindingPolicy[] = ['pairing', 'open', 'allowlist'];

/** The channels whose bots can be bound. */
export const BOT_BINDING_CHANNELS: readonly ChannelName[] = ['kakao', 'works'];

/** At most this many user ids in one allow-list, each at most `MAX_BOT_BINDING_ID_LENGTH` characters. */
export const MAX_BOT_BINDING_ALLOWLIST = 10_000;
export const MAX_BOT_BINDING_ID_LENGTH = 256;

/** A whole bot bound to one account. */
export interface BotBinding {
  /** The row's id (keyset pagination); the binding is named by `(channel, botId)`. */
  id: string;
  channel: ChannelName;
  /** Kakao `bot.id`, Works `X-WORKS-BotId`. */
  botId: string;
  accountId: string;
  policy: BotBindingPolicy;
  /**
   * The users who reach the account under `allowlist` (Kakao: `plusfriendUserKey`, the user part of the
   * conversation key; Works: `source.userId`); empty for the other policies.
   */
  allowlist: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** A binding as the admin list shows it: the allow-list counted, not listed (it may hold 10,000 ids). */
export type BotBindingSummary = Omit<BotBinding, 'allowlist'> & { allowlistCount: number };

export interface BotBindingInput {
  channel: ChannelName;
  botId: string;
  accountId: string;
  policy: BotBindingPolicy;
  allowlist: string[];
}

/** Which rows of the list to read: at most `take`, those after `(createdAt, id)` (newest first). */
export interface BotBindingWindow {
  after: { createdAt: string; id: string } | null;
  take: number;
}

/**
 * The bot bindings (`bot_bindings`). The webhook never reads this port per message: `BotBindings` (`@app/pairing`)
 * holds every binding in memory and reloads on change. `findForBot` is also what the proactive-messages feature
 * (server-mode.md §5) asks to learn whether a conversation key's bot is bound to an account.
 */
export abstract class BotBindingStore {
  /** Creates or replaces the bot's binding; null when the account does not exist. */
  abstract upsert(input: BotBindingInput): Promise<{ binding: BotBinding; created: boolean } | null>;
  abstract findForBot(channel: ChannelName, botId: string): Promise<BotBinding | null>;
  /** False when the bot had no binding. */
  abstract delete(channel: ChannelName, botId: string): Promise<boolean>;
  abstract list(window: BotBindingWindow): Promise<BotBindingSummary[]>;
  /** Every binding with its allow-list (what the in-memory cache loads). */
  abstract all(): Promise<BotBinding[]>;
  /**
   * A cheap fingerprint of the whole table (row count and latest change): the cache's periodic check reloads
   * everything only when it differs from the one it loaded with.
   */
  abstract fingerprint(): Promise<string>;
}

/**
 * The bot a conversation key belongs to, and its user, for `BotBindingStore.findForBot` and the bindings' access
 * rule (the proactive-messages check "paired to the account, or of a bot bound to it"): Works
 * `works:<botId>:<userId>` (a room, `works:<botId>:channel:<id>`, has no one user: `userId` null); Kakao
 * `<bot.id>:<user>` (Kakao's bot ids have no colon, so the bot is what comes before the first one). Null for a key
 * of neither shape.
 */
export function botOfConversationKey(
  conversationKey: string,
): { channel: ChannelName; botId: string; userId: string | null } | null {
  if (conversationKey.startsWith('works:')) {
    const target = parseWorksConversationKey(conversationKey);
    if (!target) return null;
    return { channel: 'works', botId: target.botId, userId: target.kind === 'user' ? target.id : null };
  }
  const colon = conversationKey.indexOf(':');
  if (colon <= 0 || colon === conversationKey.length - 1) return null;
  return {
    channel: 'kakao',
    botId: conversationKey.slice(0, colon),
    userId: conversationKey.slice(colon + 1),
  };
}
