import type { AcceptedReply } from './replies';

/**
 * Late and proactive answers (server-mode §4–§6): an answer Kakao could not take when it came, held until it can
 * go out — through Kakao's Event API (the bot's event block asks for it by its `heldId`) or with the next answer
 * of its conversation. Plain records; the persistence adapter maps them to and from rows.
 */

/**
 * `held`: waiting (the conversation's next answer takes it); `event_pending`: an Event API call is queued, in
 * flight, or accepted by Kakao (the next answer leaves it alone); `claimed`: taken by the next answer's send in
 * flight; `sent`, `expired`, `failed`: final.
 */
export type HeldAnswerStatus = 'held' | 'event_pending' | 'claimed' | 'sent' | 'expired' | 'failed';

/** How a held answer reached the user. */
export type HeldDelivery = 'event_api' | 'next_answer';

/** `late_reply`: replies to a message whose callback was used or expired; `proactive`: `POST /v1/messages`. */
export type HeldAnswerKind = 'late_reply' | 'proactive';

/** A held answer as the reply path and the Event API job see it. */
export interface HeldAnswer {
  /** The `heldId` of the Event API's event data. */
  id: string;
  kind: HeldAnswerKind;
  inboundMessageId: string | null;
  accountId: string;
  conversationKey: string;
  botId: string;
  /** `userRequest.user.id` of the user's skill requests (the Event API's `botUserKey`); null if unknown. */
  botUserKey: string | null;
  replies: AcceptedReply[];
  status: HeldAnswerStatus;
  expiresAt: Date;
  createdAt: Date;
}

/** The outcome of holding a reply: the row it joined (`created` false: merged into an open one). */
export interface HoldOutcome {
  held: HeldAnswer;
  created: boolean;
}

/** A held answer taken by a next answer's send: its replies go first. */
export interface ClaimedHeldAnswer {
  id: string;
  replies: AcceptedReply[];
}

/** A held answer as the operator sees it (admin list). */
export interface HeldAnswerSummary {
  id: string;
  kind: HeldAnswerKind;
  accountId: string;
  conversationKey: string;
  botId: string;
  inboundMessageId: string | null;
  status: HeldAnswerStatus;
  sentVia: HeldDelivery | null;
  replies: number;
  eventAttempts: number;
  error: string | null;
  expiresAt: Date;
  createdAt: Date;
  sentAt: Date | null;
}

/** What an agent learns about an answer it sent (`GET /v1/messages/{id}`). */
export type AnswerStatus = 'queued' | 'sent' | 'held' | 'failed';

export interface AnswerState {
  id: string;
  status: AnswerStatus;
  error?: string;
}

/** A Kakao bot's Event API settings as the operator sees them (the REST API key is write-only). */
export interface KakaoBotSummary {
  botId: string;
  name: string | null;
  eventName: string;
  hasRestApiKey: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A Kakao bot's Event API settings in clear, for the call. */
export interface KakaoEventSettings {
  botId: string;
  eventName: string;
  restApiKey: string;
}
