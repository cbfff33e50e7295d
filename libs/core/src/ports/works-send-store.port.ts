/** Where a Works message goes: a one-to-one chat with a user, or a room (channel) of the bot. */
export interface WorksTarget {
  botId: string;
  kind: 'user' | 'channel';
  /** The user id (one-to-one) or the channel id (room). */
  id: string;
}

/** The conversation key of a Works target (works-channel.md §1). */
export function worksConversationKey(target: WorksTarget): string {
  return target.kind === 'user'
    ? `works:${target.botId}:${target.id}`
    : `works:${target.botId}:channel:${target.id}`;
}

/**
 * The Works target of a conversation key, the inverse of `worksConversationKey`; null for a key of another channel
 * or one that names no bot or no user/room. The bot id is everything up to the next `:` (Works bot ids are
 * numeric); the rest is the user id, unless it starts with `channel:` (a room).
 */
export function parseWorksConversationKey(key: string): WorksTarget | null {
  if (!key.startsWith('works:')) return null;
  const rest = key.slice('works:'.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return null;
  const botId = rest.slice(0, colon);
  const tail = rest.slice(colon + 1);
  if (tail.startsWith('channel:')) {
    const id = tail.slice('channel:'.length);
    return id ? { botId, kind: 'channel', id } : null;
  }
  return tail ? { botId, kind: 'user', id: tail } : null;
}

/** `queued` until the first attempt, `retrying` between attempts, then `sent` or `failed` for good. */
export type WorksSendStatus = 'queued' | 'retrying' | 'sent' | 'failed';

/** One Works message to send (a row of `works_sends`). */
export interface WorksSend {
  id: string;
  /** The account whose streams hear of a failure; null for a conversation not paired (the pairing hint). */
  accountId: string | null;
  /** The inbound message this answers, if any (a pairing hint or a command answer may have one too). */
  inboundMessageId: string | null;
  target: WorksTarget;
  conversationKey: string;
  /** Order within the conversation: a send goes out only after every lower one is sent or failed. */
  seq: number;
  content: Record<string, unknown>;
  status: WorksSendStatus;
  attempts: number;
  createdAt: Date;
}

export interface NewWorksSends {
  accountId: string | null;
  inboundMessageId: string | null;
  target: WorksTarget;
  contents: Record<string, unknown>[];
}

export interface WorksSendAttempt {
  outcome: 'sent' | 'retrying' | 'failed';
  /** HTTP status of the send API's answer, null when none came. */
  httpStatus: number | null;
  error: string | null;
}

/** The Works send path's record: one row per Works message, every attempt counted. */
export abstract class WorksSendStore {
  /**
   * Stores the messages of one send, in order, with the next sequence numbers of their conversation (assigned
   * under a per-conversation lock, so that the order of the sequence numbers is the order of the commits).
   */
  abstract enqueue(sends: NewWorksSends): Promise<WorksSend[]>;

  abstract find(id: string): Promise<WorksSend | null>;

  /** The earliest message of the conversation before `seq` still to be sent (queued or retrying), if any. */
  abstract firstUnfinishedBefore(
    conversationKey: string,
    seq: number,
  ): Promise<{ id: string; status: 'queued' | 'retrying' } | null>;

  /** Records one attempt: counts it, keeps its status and error, and sets the outcome (`sent_at` when sent). */
  /** Sends still `queued` or `retrying` that were stored before `createdBefore`, oldest first (the sweep). */
  abstract findUnfinished(createdBefore: Date, limit: number): Promise<string[]>;
  abstract recordAttempt(id: string, attempt: WorksSendAttempt, at: Date): Promise<void>;
}
