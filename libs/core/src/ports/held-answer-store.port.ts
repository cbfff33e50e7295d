import type { AcceptedReply } from '../replies';
import type { AnswerState, HeldAnswer, HeldAnswerSummary, HoldOutcome } from '../held-answers';

/** Which rows of the admin list to read: at most `take`, after `(createdAt, id)` (newest first). */
export interface HeldAnswerWindow {
  after: { createdAt: string; id: string } | null;
  take: number;
}

/** A proactive Kakao message to hold (server-mode §5). */
export interface NewProactiveAnswer {
  id: string;
  accountId: string;
  conversationKey: string;
  botId: string;
  botUserKey: string | null;
  reply: AcceptedReply;
  expiresAt: Date;
}

/**
 * The store of held answers (a port; `HeldAnswersRepository` in @app/persistence is the adapter). The next-answer
 * path does not go through it: `ReplyStore.claimDue` claims a conversation's held answers in the same transaction
 * as the send, and `ReplyStore.finish` settles them with it, so a held answer goes out once, never twice.
 */
export abstract class HeldAnswerStore {
  /**
   * Holds a late reply to a Kakao message: merged into the message's open held answer (`held` or
   * `event_pending`), or a new one expiring at `expiresAt`. Null when there is no such message.
   */
  abstract holdReply(
    messageId: string,
    heldId: string,
    reply: AcceptedReply,
    expiresAt: Date,
  ): Promise<HoldOutcome | null>;

  /** Holds a proactive Kakao message. */
  abstract holdProactive(answer: NewProactiveAnswer): Promise<HeldAnswer>;

  /** The bot user key of the conversation's latest stored message (`userRequest.user.id`), or null. */
  abstract latestBotUserKey(conversationKey: string): Promise<string | null>;

  abstract find(heldId: string): Promise<HeldAnswer | null>;

  /** `held` → `event_pending` (an Event API call is about to be queued); false if it is not `held` any more. */
  abstract markEventPending(heldId: string): Promise<boolean>;

  /** Records one Event API attempt on the row. */
  abstract recordEventAttempt(
    heldId: string,
    httpStatus: number | null,
    error: string | null,
    taskId: string | null,
  ): Promise<void>;

  /** The Event API failed for good: `event_pending` → `held` (the next answer takes it), with the error. */
  abstract releaseEvent(heldId: string, error: string): Promise<void>;

  /**
   * The event block asks for a held answer: `held`/`event_pending` → `sent` (`event_api`) in one statement, only
   * for the bot and user it was held for and before `now` passes its expiry; its replies, or null (unknown,
   * someone else's, delivered already, expired).
   */
  abstract takeForEventBlock(
    heldId: string,
    botId: string,
    botUserKey: string,
    now: Date,
  ): Promise<AcceptedReply[] | null>;

  /** Open held answers past their expiry become `expired` (at most `limit`); how many. */
  abstract expire(now: Date, limit: number): Promise<number>;

  /**
   * Claims whose send is over without settling them (a relay killed mid-send, the send given up by the cleanup)
   * go back to `held`, or become `sent` when that send went out; how many.
   */
  abstract releaseStaleClaims(claimedBefore: Date): Promise<number>;

  /**
   * `event_pending` answers untouched since `before` — the Event API job was lost, or Kakao took the event but its
   * block never asked — go back to `held`, for the next answer (the block may still take it until then); how many.
   */
  abstract releaseStaleEvents(before: Date, limit: number): Promise<number>;

  /** Finished held answers (`sent`, `expired`, `failed`) created before `before` are deleted (at most `limit`). */
  abstract deleteFinished(before: Date, limit: number): Promise<number>;

  /** `GET /v1/messages/{id}`: a replyId or a proactive message's id, of this account; null if unknown. */
  abstract answerState(accountId: string, id: string): Promise<AnswerState | null>;

  /** The admin list, newest first, optionally of one status. */
  abstract list(window: HeldAnswerWindow, status: string | null): Promise<HeldAnswerSummary[]>;
}
