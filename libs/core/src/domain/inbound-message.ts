import type { ChannelName, NormalizedMessage } from '../channels/channel-adapter';

/** A message from a channel, about to be stored for the agent of its conversation. */
export interface NewInboundMessage {
  channel: ChannelName;
  conversationKey: string;
  /** The request body exactly as received. */
  payload: unknown;
  normalized: NormalizedMessage;
  callbackUrl: string | null;
  /** Duplicate detection for a channel without callbackUrl (`InboundMessage.dedupeKey`). */
  dedupeKey?: string | null;
  replyDeadline: Date;
  /**
   * The message's bot is bound to this account (server-mode.md §3): stored only if the conversation is paired to
   * it — a conversation paired elsewhere answers `unpaired`, so that the core re-pairs it to the bound account.
   */
  boundAccountId?: string | null;
}

/** A stored message, as the agent stream needs it to write its `message` event. */
export interface StoredMessage {
  id: string;
  accountId: string;
  seq: number;
  channel: ChannelName;
  conversationKey: string;
  payload: unknown;
  normalized: NormalizedMessage;
  callbackUrl: string | null;
  createdAt: Date;
}

export type InsertOutcome =
  | { kind: 'created'; message: StoredMessage }
  | { kind: 'duplicate'; existingId: string }
  | { kind: 'unpaired' };

/** Where an agent stream's replay starts. */
export interface ReplayStart {
  /** The account's last sequence number: the replay covers owed messages up to it, live events the rest. */
  lastSeq: number;
  /** Messages above this are owed. */
  floor: number;
  /** Whether messages written to a stream before are owed too (a Last-Event-ID reconnect). */
  includeDelivered: boolean;
}

/** A range of owed messages to read, a page at a time. */
export interface ReplayRange {
  afterSeq: number;
  upToSeq: number;
  includeDelivered: boolean;
}

/** A replay page's bounds: at most `rows` messages and (after the first) `bytes` of payload. */
export interface ReplayPageSize {
  rows: number;
  bytes: number;
}
