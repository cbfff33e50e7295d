import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { AcceptedReply, Clock, HeldAnswer, HeldAnswerStore, KakaoBotStore } from '@app/core';
import { RelayMetrics } from '@app/platform';
import { KakaoEventQueue } from './kakao-event.queue';

/** A proactive Kakao message to hold (server-mode §5). */
export interface ProactiveKakaoAnswer {
  accountId: string;
  conversationKey: string;
  botId: string;
  reply: AcceptedReply;
}

/**
 * Holding answers Kakao cannot take now (server-mode §4–§5): a late reply joins its message's held answer, a
 * proactive message becomes one. A new held answer of a bot with Event API settings (§6) is handed to the Event
 * API job at once (`event_pending`); otherwise, or when that fails, it waits for the conversation's next answer
 * (`ReplyStore.claimDue`). Expiry is `HELD_ANSWER_TTL_HOURS` after it was first held.
 */
@Injectable()
export class HeldAnswersService {
  private readonly logger = new Logger('HeldAnswers');

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly store: HeldAnswerStore,
    private readonly bots: KakaoBotStore,
    private readonly events: KakaoEventQueue,
    private readonly clock: Clock,
    private readonly metrics: RelayMetrics,
  ) {}

  /** Null when the message does not exist (any more). */
  async holdLateReply(messageId: string, reply: AcceptedReply): Promise<HeldAnswer | null> {
    const outcome = await this.store.holdReply(messageId, randomUUID(), reply, this.expiry());
    if (!outcome) return null;
    this.metrics.heldAnswers.inc({ event: outcome.created ? 'held' : 'merged' });
    if (outcome.created) await this.dispatch(outcome.held);
    return outcome.held;
  }

  async holdProactive(answer: ProactiveKakaoAnswer): Promise<HeldAnswer> {
    const botUserKey = await this.store.latestBotUserKey(answer.conversationKey);
    const held = await this.store.holdProactive({
      id: answer.reply.replyId,
      accountId: answer.accountId,
      conversationKey: answer.conversationKey,
      botId: answer.botId,
      botUserKey,
      reply: answer.reply,
      expiresAt: this.expiry(),
    });
    this.metrics.heldAnswers.inc({ event: 'held' });
    await this.dispatch(held);
    return held;
  }

  /** The Event API path when the bot has it and the user's bot user key is known; never throws. */
  private async dispatch(held: HeldAnswer): Promise<void> {
    try {
      if (!held.botUserKey || !(await this.bots.hasEventApi(held.botId))) return;
      if (!(await this.store.markEventPending(held.id))) return;
      try {
        await this.events.add(held.id);
      } catch (e) {
        // Redis away: the next answer takes it instead.
        await this.store.releaseEvent(
          held.id,
          `the Event API job could not be queued: ${(e as Error).message}`,
        );
      }
    } catch (e) {
      this.logger.warn(`held answer ${held.id}: Event API not started: ${(e as Error).message}`);
    }
  }

  private expiry(): Date {
    return this.clock.after(this.config.heldAnswerTtlHours * 3_600_000);
  }
}
