import type {
  AcceptedReply,
  AcceptReplyOutcome,
  ClaimedSend,
  ReplyDecision,
  ReplyRoute,
  ReplyTarget,
  SendRecord,
  SendState,
} from '../replies';

/**
 * The store of the reply path (a port; `OutboundMessagesRepository` in @app/persistence is the adapter): the
 * replies accepted per message, the claim of a due send and its outcome. It keeps rows consistent; the rules —
 * who may answer, until when, how long the quiet time is — belong to the caller (`ReplyService`), and every
 * instant it compares with comes from the caller's `Clock`.
 */
export abstract class ReplyStore {
  /**
   * With the message locked: hands what is known about it (null when there is no such message) to `decide`,
   * and if the verdict is `accept`, appends the reply to the message's send and sets that send due at
   * `sendAfter`. A send claimed meanwhile makes it `already_replied`.
   */
  /** The message's account, channel and conversation key (null when there is no such message). */
  abstract findRoute(messageId: string): Promise<ReplyRoute | null>;

  /**
   * Marks a message `replied` whose answer was handed to a channel without a callback (Naver Works: its sends
   * are stored and queued); a second answer keeps the first `replied_at`.
   */
  abstract markReplied(messageId: string, at: Date): Promise<void>;

  abstract acceptReply(
    messageId: string,
    reply: AcceptedReply,
    decide: (target: ReplyTarget | null) => ReplyDecision,
  ): Promise<AcceptReplyOutcome>;

  /** Takes the replies of the message's send if it is pending and due at `now`; null otherwise. */
  abstract claimDue(messageId: string, now: Date): Promise<ClaimedSend | null>;

  /** Where the message's send stands, or null when no reply was accepted for it. */
  abstract sendState(messageId: string): Promise<SendState | null>;

  /** Records one attempt of a send in flight (so a crash mid-send leaves it visible). */
  abstract recordAttempt(
    sendId: string,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void>;

  /** Records the outcome on the send and its message (`replied` or `failed`) together; returns when. */
  abstract finish(sendId: string, outcome: SendRecord): Promise<Date>;

  /** Messages whose pending, unclaimed send was due before `dueBefore`: their job was lost. */
  abstract findOverdueMessageIds(dueBefore: Date, limit: number): Promise<string[]>;
}
