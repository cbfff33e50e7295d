import {
  AcceptedReply,
  AnswerState,
  HeldAnswer,
  HeldAnswerStore,
  HeldAnswerSummary,
  HeldAnswerWindow,
  HoldOutcome,
  NewProactiveAnswer,
} from '@app/core';
import { FakeHeld, InMemoryReplyStore } from '../in-memory-reply-store';

/**
 * `HeldAnswerStore` in memory over an `InMemoryReplyStore`'s messages and held answers (the next-answer path claims
 * them there), with the adapter's semantics: one open held answer per message, the event block takes it once.
 */
export class InMemoryHeldAnswerStore extends HeldAnswerStore {
  constructor(
    private readonly replies: InMemoryReplyStore,
    private readonly botUserKeys = new Map<string, string>(),
  ) {
    super();
  }

  async holdReply(
    messageId: string,
    heldId: string,
    reply: AcceptedReply,
    expiresAt: Date,
  ): Promise<HoldOutcome | null> {
    const message = this.replies.messages.get(messageId);
    if (!message) return null;
    const open = this.replies.held.find(
      (h) => h.messageId === messageId && (h.status === 'held' || h.status === 'event_pending'),
    );
    if (open) {
      open.replies = [...open.replies, reply];
      return { held: toHeld(open), created: false };
    }
    const row: FakeHeld = {
      id: heldId,
      messageId,
      accountId: message.accountId,
      conversationKey: message.conversationKey,
      botId: message.conversationKey.split(':')[0],
      botUserKey: this.botUserKeys.get(message.conversationKey) ?? null,
      replies: [reply],
      status: 'held',
      sentVia: null,
      claimedBy: null,
      expiresAt,
      createdAt: new Date(reply.receivedAt),
    };
    this.replies.held.push(row);
    return { held: toHeld(row), created: true };
  }

  async holdProactive(answer: NewProactiveAnswer): Promise<HeldAnswer> {
    const row: FakeHeld = {
      id: answer.id,
      messageId: null,
      accountId: answer.accountId,
      conversationKey: answer.conversationKey,
      botId: answer.botId,
      botUserKey: answer.botUserKey,
      replies: [answer.reply],
      status: 'held',
      sentVia: null,
      claimedBy: null,
      expiresAt: answer.expiresAt,
      createdAt: new Date(answer.reply.receivedAt),
    };
    this.replies.held.push(row);
    return toHeld(row);
  }

  async latestBotUserKey(conversationKey: string): Promise<string | null> {
    return this.botUserKeys.get(conversationKey) ?? null;
  }

  async find(heldId: string): Promise<HeldAnswer | null> {
    const row = this.byId(heldId);
    return row ? toHeld(row) : null;
  }

  async markEventPending(heldId: string): Promise<boolean> {
    const row = this.byId(heldId);
    if (!row || row.status !== 'held') return false;
    row.status = 'event_pending';
    return true;
  }

  async recordEventAttempt(): Promise<void> {}

  async releaseEvent(heldId: string): Promise<void> {
    const row = this.byId(heldId);
    if (row?.status === 'event_pending') row.status = 'held';
  }

  async takeForEventBlock(
    heldId: string,
    botId: string,
    botUserKey: string,
    now: Date,
  ): Promise<AcceptedReply[] | null> {
    const row = this.byId(heldId);
    if (!row || row.botId !== botId || row.botUserKey !== botUserKey || row.expiresAt <= now) return null;
    if (row.status !== 'held' && row.status !== 'event_pending') return null;
    row.status = 'sent';
    row.sentVia = 'event_api';
    return row.replies;
  }

  async expire(now: Date, limit: number): Promise<number> {
    const due = this.replies.held
      .filter((h) => ['held', 'event_pending'].includes(h.status) && h.expiresAt <= now)
      .slice(0, limit);
    for (const h of due) h.status = 'expired';
    return due.length;
  }

  async releaseStaleClaims(): Promise<number> {
    return 0;
  }

  async releaseStaleEvents(): Promise<number> {
    return 0;
  }

  async deleteFinished(before: Date, limit: number): Promise<number> {
    const gone = this.replies.held
      .filter((h) => ['sent', 'expired', 'failed'].includes(h.status) && h.createdAt < before)
      .slice(0, limit);
    for (const h of gone) this.replies.held.splice(this.replies.held.indexOf(h), 1);
    return gone.length;
  }

  async answerState(accountId: string, id: string): Promise<AnswerState | null> {
    const row = this.replies.held.find(
      (h) => h.accountId === accountId && (h.id === id || h.replies.some((r) => r.replyId === id)),
    );
    if (!row) return null;
    return { id, status: row.status === 'sent' ? 'sent' : row.status === 'expired' ? 'failed' : 'held' };
  }

  async list(window: HeldAnswerWindow): Promise<HeldAnswerSummary[]> {
    return this.replies.held.slice(0, window.take).map((h) => ({
      id: h.id,
      kind: h.messageId ? 'late_reply' : 'proactive',
      accountId: h.accountId,
      conversationKey: h.conversationKey,
      botId: h.botId,
      inboundMessageId: h.messageId,
      status: h.status,
      sentVia: h.sentVia,
      replies: h.replies.length,
      eventAttempts: 0,
      error: null,
      expiresAt: h.expiresAt,
      createdAt: h.createdAt,
      sentAt: null,
    }));
  }

  private byId(id: string): FakeHeld | undefined {
    return this.replies.held.find((h) => h.id === id);
  }
}

function toHeld(row: FakeHeld): HeldAnswer {
  return {
    id: row.id,
    kind: row.messageId ? 'late_reply' : 'proactive',
    inboundMessageId: row.messageId,
    accountId: row.accountId,
    conversationKey: row.conversationKey,
    botId: row.botId,
    botUserKey: row.botUserKey,
    replies: row.replies,
    status: row.status,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
  };
}
