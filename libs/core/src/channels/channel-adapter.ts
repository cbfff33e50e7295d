import type { IncomingHttpHeaders } from 'node:http';

/**
 * The messengers the relay speaks (works-channel.md §1). Stored with each message (`inbound_messages.channel`) and
 * sent as the `channel` field of the `message` event.
 */
export type ChannelName = 'kakao' | 'works';

/** How a channel names a conversation (for Kakao `"<bot.id>:<plusfriendUserKey>"`, contract §2). */
export interface ConversationIdentity {
  /** The bot (Kakao `bot.id`) or room the message came through: `normalized.channelId`. */
  channelId: string;
  /** The sender: `normalized.userId`, and `kakaoUserId` of `pairing_complete`. */
  userId: string;
  /** The key a conversation is paired by; unique across channels. */
  conversationKey: string;
}

/** Non-text content of a message (works-channel.md §1): what it is, and where the agent can fetch it. */
export interface ChannelAttachment {
  type: 'image' | 'file' | 'audio' | 'video' | 'sticker' | 'location';
  url?: string;
  fileId?: string;
}

/** What every channel fills in the `message` event's `normalized` field. */
export interface NormalizedMessage {
  userId: string;
  /** The text, or "" for non-text content. */
  text: string;
  channelId: string;
  /** Only for non-text content. */
  attachments?: ChannelAttachment[];
}

/** A webhook request as an adapter sees it, once its body has been read (and its Content-Encoding undone). */
export interface ChannelRequest {
  readonly headers: IncomingHttpHeaders;
  /** The body's bytes as sent, after decompression and before any charset decoding: what a signature covers. */
  readonly rawBody: Buffer;
}

/**
 * A messenger's request, understood: who wrote in which conversation, what they wrote, and the original body that
 * is stored and forwarded whole.
 */
export interface InboundMessage<TPayload = unknown> {
  readonly channel: ChannelName;
  /**
   * The bot the message came through (Kakao `bot.id`, Works `X-WORKS-BotId`), also for a Works room, whose
   * `conversation.channelId` is the room: what a bot binding (server-mode.md §3) is looked up by.
   */
  readonly botId: string;
  readonly conversation: ConversationIdentity;
  /** Where relay commands are recognised (`parseCommand`); "" for non-text content. */
  readonly text: string;
  readonly normalized: NormalizedMessage;
  /** The request body exactly as received (stored as `payload`, sent as the event's `payload`). */
  readonly payload: TPayload;
  /**
   * How the agent's answer reaches the user: `callback` — later, out of band (Kakao's `callbackUrl`); `inline` —
   * in the answer to this very request, which waits for it.
   */
  readonly replyMode: 'callback' | 'inline';
  /**
   * Kakao's single-use callback URL: where the reply is sent, and what makes a retried request a duplicate (stored
   * once). Null when the channel has none.
   */
  readonly callbackUrl: string | null;
  /** How long after storing the agent may still reply (the message's reply deadline). */
  readonly replyWindowMs: number;
  /**
   * What makes a repeated request a duplicate (stored once) when the channel has no callbackUrl: Works retries a
   * callback with the same body and `issuedTime`, so its adapter gives a digest of the bot and the raw body.
   */
  readonly dedupeKey?: string | null;
  /**
   * A messenger event that is not a message (Works `join`, `leave`, `joined`, `left`): recorded, never stored as
   * a message nor streamed, and no command is looked for in it.
   */
  readonly event?: string;
}

/** What the core did with a message; the adapter turns it into the messenger's answer. */
export type InboundOutcome =
  /** A relay command was answered (`text` is the answer), or the user must be told something: */
  | { readonly kind: 'command'; readonly text: string }
  /** the conversation is not paired (`text` tells how to pair); nothing stored, */
  | { readonly kind: 'unpaired'; readonly text: string }
  /** the bot is bound to an agent with an allow-list that does not name this user (`text` says so); nothing stored, */
  | { readonly kind: 'refused'; readonly text: string }
  /** the user writes faster than the per-conversation limit; nothing stored, */
  | { readonly kind: 'flood'; readonly text: string }
  /** the relay cannot take the message now (database away, store queue full); nothing stored. */
  | { readonly kind: 'unavailable'; readonly text: string; readonly retryAfterSeconds?: number }
  /** The same request again (same `callbackUrl` or `dedupeKey`): stored and handed to the agent once, earlier. */
  | { readonly kind: 'duplicate' }
  /** A messenger event that is not a message (`InboundMessage.event`): recorded, not streamed. */
  | { readonly kind: 'recorded' }
  /**
   * Stored. `handOff` gives it to the agent's streams (never throws; the streams catch up from PostgreSQL whatever
   * happens); an adapter that waits for the reply inline starts listening before it hands off.
   */
  | { readonly kind: 'stored'; readonly messageId: string; handOff(): Promise<void> };

/** The HTTP answer to the messenger (JSON). Errors are thrown instead (`RelayError`, the uniform error body). */
export interface ChannelAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Set when an inline wait ended without the agent's reply (counted as `inline_timeout`). */
  readonly replyTimedOut?: boolean;
  /** Set when the answer carried a held answer to the event block (`answerDirectly`; counted as `sent_event_api`). */
  readonly heldAnswerSent?: boolean;
}

/**
 * One messenger in front of the relay core (works-channel.md §1). The adapter owns what differs between
 * messengers: where its webhook is, how its requests are authenticated and read, how it names users and
 * conversations, where the text commands are recognised in comes from, and how an answer reaches the user. The core
 * owns the rest — the relay commands and their texts, limits, pairing, storing, sequencing, streaming, replies — and
 * every adapter's webhook runs through the same HTTP pipeline (request id, body reading and its limits, security
 * headers, error body, log line, metrics).
 *
 * Order per request: `authenticate` (before the body is judged), `parse`, `admit` (before anything is looked up or
 * stored), then the core, then `answer`.
 */
export abstract class ChannelAdapter<TPayload = unknown> {
  /** Stored with each message and sent as the event's `channel`. */
  abstract readonly channel: ChannelName;
  /** The webhook's path (`/kakao/webhook`); `POST` only, matched case-insensitively, trailing slash and query allowed. */
  abstract readonly path: string;
  /** Largest body accepted, in bytes after decompression (413 beyond). */
  abstract readonly bodyLimitBytes: number;

  /**
   * Throws `UnauthorizedError` (or another `RelayError`: unknown bot 404, disabled bot 403) unless the request
   * comes from the messenger. Runs before the body is judged: an unauthenticated caller learns nothing about it.
   */
  abstract authenticate(request: ChannelRequest): void | Promise<void>;

  /** Validates the parsed JSON body and names its conversation; throws `ValidationError` (400). */
  abstract parse(body: unknown, request: ChannelRequest): InboundMessage<TPayload>;

  /**
   * Whether the relay serves this message at all (an allow-list of bots, a reply-target policy); throws a
   * `RelayError` (403, 400) before anything is looked up or stored.
   */
  abstract admit(message: InboundMessage<TPayload>): void;

  /**
   * A request the adapter answers itself, before commands and storing (Kakao: the event block's skill request for
   * a held answer, server-mode §4): its answer, or null to let the core handle the message. Runs after `admit`.
   */
  answerDirectly(message: InboundMessage<TPayload>): Promise<ChannelAnswer | null> | null {
    void message;
    return null;
  }

  /** The messenger's answer to what the core did with the message. */
  abstract answer(
    message: InboundMessage<TPayload>,
    outcome: InboundOutcome,
  ): ChannelAnswer | Promise<ChannelAnswer>;
}
