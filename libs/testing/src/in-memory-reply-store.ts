import {
  AcceptedReply,
  AcceptReplyOutcome,
  ClaimedSend,
  Clock,
  OutboundMode,
  OutboundStatus,
  ReplyDecision,
  ReplyRoute,
  ReplyStore,
  ReplyTarget,
  SendRecord,
  SendState,
  SkillResponse,
} from '@app/core';

/** A held answer (server-mode §4) as the in-memory stores keep it. */
export interface FakeHeld {
  id: string;
  messageId: string | null;
  accountId: string;
  conversationKey: string;
  botId: string;
  botUserKey: string | null;
  replies: AcceptedReply[];
  status: 'held' | 'event_pending' | 'claimed' | 'sent' | 'expired' | 'failed';
  sentVia: 'event_api' | 'next_answer' | null;
  claimedBy: string | null;
  expiresAt: Date;
  createdAt: Date;
}

/** An inbound message as the reply path sees it. */
export interface FakeMessage {
  id: string;
  accountId: string;
  channel: ReplyRoute['channel'];
  conversationKey: string;
  callbackUrl: string | null;
  replyDeadline: Date;
  createdAt: Date;
  status: 'queued' | 'replied' | 'failed' | 'expired';
  repliedAt: Date | null;
}

/** The outbound row of a message. */
export interface FakeSend {
  id: string;
  messageId: string;
  accountId: string;
  mode: OutboundMode;
  status: OutboundStatus;
  replies: AcceptedReply[];
  sendAfter: Date | null;
  claimedAt: Date | null;
  attempts: number;
  lastHttpStatus: number | null;
  error: string | null;
  response: SkillResponse | null;
  sentAt: Date | null;
  failedAt: Date | null;
}

/**
 * `ReplyStore` in memory, with the adapter's semantics (one send per message, a claimed send takes no reply,
 * claim only when due), for unit tests of the reply path. Timestamps it records come from the clock given.
 */
export class InMemoryReplyStore extends ReplyStore {
  readonly messages = new Map<string, FakeMessage>();
  /** By message id. */
  readonly sends = new Map<string, FakeSend>();
  /** Held answers, shared with `InMemoryHeldAnswerStore`. */
  readonly held: FakeHeld[] = [];
  private nextSend = 1;

  constructor(private readonly clock: Clock) {
    super();
  }

  addMessage(message: Partial<FakeMessage> & Pick<FakeMessage, 'id' | 'accountId'>): FakeMessage {
    const stored: FakeMessage = {
      channel: 'kakao',
      conversationKey: 'bot-1:user-1',
      repliedAt: null,
      callbackUrl: 'https://bot-api.kakao.com/v1/callback/test',
      createdAt: this.clock.date(),
      replyDeadline: this.clock.after(55_000),
      status: 'queued',
      ...message,
    };
    this.messages.set(stored.id, stored);
    return stored;
  }

  /** A pending send with replies already in it (as earlier `acceptReply` calls would have left it). */
  addSend(messageId: string, replies: SkillResponse[], sendAfter: Date = this.clock.date()): FakeSend {
    const message = this.messages.get(messageId);
    if (!message) throw new Error(`no message ${messageId}`);
    const send = this.newSend(message);
    send.replies = replies.map((response, i) => ({
      replyId: `reply-${i + 1}`,
      response,
      receivedAt: this.clock.date().toISOString(),
    }));
    send.sendAfter = sendAfter;
    this.sends.set(messageId, send);
    return send;
  }

  sendOf(messageId: string): FakeSend | undefined {
    return this.sends.get(messageId);
  }

  async findRoute(messageId: string): Promise<ReplyRoute | null> {
    const message = this.messages.get(messageId);
    return message
      ? { accountId: message.accountId, channel: message.channel, conversationKey: message.conversationKey }
      : null;
  }

  async markReplied(messageId: string, at: Date): Promise<void> {
    const message = this.messages.get(messageId);
    if (!message || message.status === 'replied') return;
    message.status = 'replied';
    message.repliedAt = at;
  }

  async acceptReply(
    messageId: string,
    reply: AcceptedReply,
    decide: (target: ReplyTarget | null) => ReplyDecision,
  ): Promise<AcceptReplyOutcome> {
    const message = this.messages.get(messageId);
    const existing = this.sends.get(messageId);
    const target: ReplyTarget | null = message
      ? {
          accountId: message.accountId,
          mode: message.callbackUrl ? 'callback' : 'inline',
          replyDeadline: message.replyDeadline,
          expired: message.status === 'expired',
          sendStarted: !!existing && (existing.status !== 'pending' || existing.claimedAt !== null),
        }
      : null;
    const decision = decide(target);
    if (decision.kind !== 'accept') return decision;
    if (!message || !target) return { kind: 'not_found' };
    const send = existing ?? this.newSend(message);
    if (send.status !== 'pending' || send.claimedAt) return { kind: 'already_replied' };
    send.replies = [...send.replies, reply];
    send.sendAfter = decision.sendAfter;
    this.sends.set(messageId, send);
    return {
      kind: 'accepted',
      mode: target.mode,
      sendAfter: decision.sendAfter,
      replyDeadline: message.replyDeadline,
    };
  }

  async claimDue(messageId: string, now: Date): Promise<ClaimedSend | null> {
    const send = this.sends.get(messageId);
    const message = this.messages.get(messageId);
    if (!send || !message || send.status !== 'pending' || !send.sendAfter) return null;
    if (send.sendAfter.getTime() > now.getTime() + 5) return null;
    send.claimedAt = this.clock.date();
    const held = this.held
      .filter(
        (h) =>
          h.conversationKey === message.conversationKey &&
          h.accountId === send.accountId &&
          h.status === 'held' &&
          h.expiresAt > now,
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    for (const h of held) {
      h.status = 'claimed';
      h.claimedBy = send.id;
    }
    return {
      held: held.map((h) => ({ id: h.id, replies: h.replies })),
      id: send.id,
      accountId: send.accountId,
      mode: send.mode,
      replies: send.replies,
      callbackUrl: message.callbackUrl,
      replyDeadline: message.replyDeadline,
      createdAt: message.createdAt,
      attempts: send.attempts,
    };
  }

  async sendState(messageId: string): Promise<SendState | null> {
    const send = this.sends.get(messageId);
    return send
      ? { status: send.status, sendAfter: send.sendAfter, sentAt: send.sentAt, error: send.error }
      : null;
  }

  async recordAttempt(
    sendId: string,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    const send = this.byId(sendId);
    send.attempts = attempts;
    send.lastHttpStatus = httpStatus;
    send.error = error;
  }

  async finish(sendId: string, outcome: SendRecord): Promise<Date> {
    const send = this.byId(sendId);
    const at = this.clock.date();
    Object.assign(send, {
      status: outcome.ok ? 'sent' : 'failed',
      response: outcome.response,
      attempts: outcome.attempts,
      lastHttpStatus: outcome.httpStatus,
      error: outcome.error,
      sentAt: outcome.ok ? at : null,
      failedAt: outcome.ok ? null : at,
    });
    const message = this.messages.get(send.messageId);
    if (message) message.status = outcome.ok ? 'replied' : 'failed';
    for (const h of this.held) {
      if (h.claimedBy !== sendId || h.status !== 'claimed') continue;
      const delivered = outcome.ok && (outcome.heldIncluded ?? []).includes(h.id);
      h.status = delivered ? 'sent' : 'held';
      h.sentVia = delivered ? 'next_answer' : null;
      if (!delivered) h.claimedBy = null;
    }
    return at;
  }

  async findOverdueMessageIds(dueBefore: Date, limit: number): Promise<string[]> {
    return [...this.sends.values()]
      .filter((s) => s.status === 'pending' && !s.claimedAt && s.sendAfter && s.sendAfter < dueBefore)
      .sort((a, b) => (a.sendAfter?.getTime() ?? 0) - (b.sendAfter?.getTime() ?? 0))
      .slice(0, limit)
      .map((s) => s.messageId);
  }

  private newSend(message: FakeMessage): FakeSend {
    return {
      id: `send-${this.nextSend++}`,
      messageId: message.id,
      accountId: message.accountId,
      mode: message.callbackUrl ? 'callback' : 'inline',
      status: 'pending',
      replies: [],
      sendAfter: null,
      claimedAt: null,
      attempts: 0,
      lastHttpStatus: null,
      error: null,
      response: null,
      sentAt: null,
      failedAt: null,
    };
  }

  private byId(sendId: string): FakeSend {
    const send = [...this.sends.values()].find((s) => s.id === sendId);
    if (!send) throw new Error(`no send ${sendId}`);
    return send;
  }
}
