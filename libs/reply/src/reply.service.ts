import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  AcceptedReply,
  Clock,
  ConflictError,
  NotFoundError,
  parseWorksConversationKey,
  RelayError,
  ReplyDecision,
  ReplyRoute,
  ReplyStore,
  ReplyTarget,
  SkillResponse,
  UnauthorizedError,
  ValidationError,
} from '@app/core';
import { ChannelWait, channelNames, PubSubService, SendOutcome } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { AgentPrincipal } from '@app/pairing';
import { skillResponseToWorks, WorksSender } from '@app/works';
import { CallbackSendQueue } from './callback-send.queue';
import { HeldAnswersService } from './held-answers.service';
import { isWorksReply, ReplyAcceptedDto, ReplyDeliveredDto, ReplyDto, ReplyResponse } from './dto/reply.dto';

/** How long before the reply deadline a coalesced send must start. */
export const SEND_MARGIN_MS = { callback: 1000, inline: 150 } as const;
/** A synchronous reply waits this long past the deadline for the send's outcome. */
const SYNC_OUTCOME_GRACE_MS = 6000;

export class CallbackFailedError extends RelayError {
  constructor(reason: string) {
    super(502, 'CALLBACK_FAILED', `Kakao did not take the reply: ${reason}`);
  }
}

const notFound = () =>
  new NotFoundError('MESSAGE_NOT_FOUND', 'No message with this id exists for this agent.');

/**
 * The agent's answers (contract §5): accepted at once and coalesced per message, sent by one BullMQ job per
 * message; with REPLY_COALESCE_MS=0 each call waits for its own send. An answer to a Naver Works message
 * (works-channel.md §3) has no callback window: each one is handed to the Works send path at once, in order.
 */
@Injectable()
export class ReplyService {
  private readonly logger = new Logger('Replies');

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly store: ReplyStore,
    private readonly sends: CallbackSendQueue,
    private readonly pubsub: PubSubService,
    private readonly metrics: RelayMetrics,
    private readonly clock: Clock,
    private readonly works: WorksSender,
    private readonly held: HeldAnswersService,
  ) {}

  async reply(agent: AgentPrincipal, dto: ReplyDto): Promise<ReplyAcceptedDto | ReplyDeliveredDto> {
    if (!agent.accountId) {
      throw new UnauthorizedError(
        'SESSION_NOT_PAIRED',
        'The session is not paired yet; replies need a paired session.',
      );
    }
    // Another account's message is as unknown as a missing one, whatever its channel.
    const route = await this.store.findRoute(dto.messageId);
    if (!route || route.accountId !== agent.accountId) throw notFound();
    const response: ReplyResponse = dto.response;
    if (route.channel === 'works') return this.replyOnWorks(route, dto.messageId, response);
    if (isWorksReply(response)) {
      const message = '{"works": …} answers only a Naver Works message; this one came from Kakao';
      throw new ValidationError(`response: ${message}`, [{ field: 'response', message }]);
    }
    return this.replyOnKakao(agent.accountId, dto.messageId, response);
  }

  /**
   * Works: the reply becomes Works messages (converted from a SkillResponse, or `{"works": …}` as is), stored and
   * queued as the next of the conversation by `WorksSender` before the call answers, so that replies are sent in
   * the order they were accepted; the message is then `replied`. The replyId is the first stored send's id.
   */
  private async replyOnWorks(
    route: ReplyRoute,
    messageId: string,
    response: ReplyResponse,
  ): Promise<ReplyAcceptedDto> {
    const target = parseWorksConversationKey(route.conversationKey);
    if (!target) throw new Error(`message ${messageId} has no Works conversation key`);
    const contents = isWorksReply(response) ? [response.works] : skillResponseToWorks(response);
    if (contents.length === 0) {
      const message = 'no output of this SkillResponse converts to a Naver Works message';
      throw new ValidationError(`response: ${message}`, [{ field: 'response', message }]);
    }
    const sends = await this.works.send(target, contents, { accountId: route.accountId, messageId });
    this.metrics.repliesAccepted.inc();
    try {
      await this.store.markReplied(messageId, this.clock.date());
    } catch (e) {
      // The sends are stored and queued: answering an error now would only make the agent send them twice.
      this.logger.warn(`Works reply to ${messageId} queued but not marked replied: ${(e as Error).message}`);
    }
    return { success: true, status: 'accepted', replyId: sends[0].id };
  }

  private async replyOnKakao(
    accountId: string,
    messageId: string,
    response: SkillResponse,
  ): Promise<ReplyAcceptedDto | ReplyDeliveredDto> {
    const dto = { messageId, response };
    const synchronous = this.config.replyCoalesceMs === 0;
    // Subscribe before the send can happen, so its outcome cannot be missed.
    const wait: ChannelWait | null = synchronous
      ? await this.pubsub.waitForOne(
          this.pubsub.channel(...channelNames.sendOutcome(dto.messageId)),
          this.config.callbackTtlSeconds * 1000 + SYNC_OUTCOME_GRACE_MS,
        )
      : null;
    try {
      const replyId = randomUUID();
      const reply = { replyId, response: dto.response, receivedAt: this.clock.date().toISOString() };
      const outcome = await this.store.acceptReply(dto.messageId, reply, (target) =>
        this.decide(target, accountId),
      );
      switch (outcome.kind) {
        case 'not_found':
          throw notFound();
        case 'already_replied':
          if (this.config.lateReplies === 'hold') return await this.holdLate(dto.messageId, reply);
          throw new ConflictError('ALREADY_REPLIED', 'The reply to this message was already sent to Kakao.');
        case 'expired':
          if (this.config.lateReplies === 'hold') return await this.holdLate(dto.messageId, reply);
          throw new ConflictError('CALLBACK_EXPIRED', 'The deadline to answer this message has passed.');
      }
      this.metrics.repliesAccepted.inc();
      try {
        await this.sends.schedule(dto.messageId, outcome.sendAfter);
      } catch (e) {
        // Accepted and stored; the worker's sweeper queues overdue sends once Redis is back.
        this.logger.warn(`reply ${replyId} stored but its send not queued: ${(e as Error).message}`);
      }
      if (!wait) return { success: true, status: 'accepted', replyId };
      return await this.awaitOutcome(dto.messageId, wait);
    } finally {
      wait?.cancel();
    }
  }

  /**
   * LATE_REPLIES=hold (server-mode §4): a reply after the callback was used or expired is kept, merged with the
   * message's other held replies, and delivered later (Event API, or the conversation's next answer).
   */
  private async holdLate(messageId: string, reply: AcceptedReply): Promise<ReplyAcceptedDto> {
    const held = await this.held.holdLateReply(messageId, reply);
    if (!held) throw notFound();
    this.metrics.repliesAccepted.inc();
    return { success: true, status: 'held', replyId: reply.replyId };
  }

  /**
   * The rules for one reply, applied with the message locked: only its own account may answer (another
   * account's message is as unknown as a missing one), not after its send started, not past its deadline. An
   * accepted reply pushes the send back by the quiet time, but never past the deadline minus the send margin.
   */
  private decide(target: ReplyTarget | null, accountId: string): ReplyDecision {
    if (!target || target.accountId !== accountId) return { kind: 'not_found' };
    if (target.sendStarted) return { kind: 'already_replied' };
    const now = this.clock.now();
    const deadline = target.replyDeadline.getTime();
    if (now >= deadline || target.expired) return { kind: 'expired' };
    const sendBy = deadline - SEND_MARGIN_MS[target.mode];
    return {
      kind: 'accept',
      sendAfter: new Date(Math.max(now, Math.min(now + this.config.replyCoalesceMs, sendBy))),
    };
  }

  private async awaitOutcome(messageId: string, wait: ChannelWait): Promise<ReplyDeliveredDto> {
    const raw = await wait.result;
    if (raw !== null) {
      const outcome = JSON.parse(raw) as SendOutcome;
      if (outcome.status === 'sent') return { success: true, deliveredAt: outcome.deliveredAt };
      throw new CallbackFailedError(outcome.error);
    }
    const state = await this.store.sendState(messageId);
    if (state?.status === 'sent' && state.sentAt)
      return { success: true, deliveredAt: state.sentAt.getTime() };
    throw new CallbackFailedError(state?.error ?? 'no outcome before the deadline');
  }
}
