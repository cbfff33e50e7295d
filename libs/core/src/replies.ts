import type { ChannelName } from './channels/channel-adapter';
import type { ClaimedHeldAnswer } from './held-answers';
import type { SkillResponse } from './kakao';

/**
 * The agent's answers to one inbound message, as the reply path sees them (contract §5): the replies accepted
 * for it, coalesced into one SkillResponse, and the outcome of sending that to Kakao. Plain records; the
 * persistence adapter maps them to and from rows.
 */

/** `callback`: POST to the message's callback URL; `inline`: hand it to the webhook that holds Kakao's request. */
export type OutboundMode = 'callback' | 'inline';

export type OutboundStatus = 'pending' | 'sent' | 'failed';

/** Who may answer a message and where the answer goes: its account, messenger and conversation. */
export interface ReplyRoute {
  accountId: string;
  channel: ChannelName;
  conversationKey: string;
}

/** One reply as the agent sent it. */
export interface AcceptedReply {
  replyId: string;
  response: SkillResponse;
  /** ISO 8601. */
  receivedAt: string;
}

/** What deciding on a reply needs to know about its message, read while the message is locked. */
export interface ReplyTarget {
  accountId: string;
  mode: OutboundMode;
  replyDeadline: Date;
  /** The message was expired (its deadline passed without a reply). */
  expired: boolean;
  /** Its send was claimed or has finished: no reply joins it any more. */
  sendStarted: boolean;
}

/** The verdict on one reply: join the send (due at `sendAfter`), or why not. */
export type ReplyDecision =
  | { kind: 'accept'; sendAfter: Date }
  | { kind: 'not_found' }
  | { kind: 'already_replied' }
  | { kind: 'expired' };

export type AcceptReplyOutcome =
  | { kind: 'accepted'; mode: OutboundMode; sendAfter: Date; replyDeadline: Date }
  | { kind: 'not_found' }
  | { kind: 'already_replied' }
  | { kind: 'expired' };

/** A due send, taken by the send job: from now on no reply joins it. */
export interface ClaimedSend {
  /** The outbound record's id. */
  id: string;
  accountId: string;
  mode: OutboundMode;
  replies: AcceptedReply[];
  callbackUrl: string | null;
  replyDeadline: Date;
  /** When Kakao's request came in (its callback URL lives one minute from then). */
  createdAt: Date;
  /** Attempts already made by earlier runs of the job. */
  attempts: number;
  /**
   * Held answers of the conversation taken with this send (server-mode §4), oldest first: their outputs go before
   * the replies'. `finish` marks those it delivered `sent` and gives the others back.
   */
  held: ClaimedHeldAnswer[];
}

/** Where a message's send stands. */
export interface SendState {
  status: OutboundStatus;
  sendAfter: Date | null;
  sentAt: Date | null;
  error: string | null;
}

/** The outcome of a send, as recorded. */
export interface SendRecord {
  ok: boolean;
  /** The merged SkillResponse that was sent (or tried). */
  response: SkillResponse;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  /** The claimed held answers that went into `response` (sent with it when it is `ok`); the rest are released. */
  heldIncluded?: string[];
}
