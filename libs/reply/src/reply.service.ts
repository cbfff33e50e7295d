import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  Clock,
  ConflictError,
  NotFoundError,
  RelayError,
  ReplyDecision,
  ReplyStore,
  ReplyTarget,
  UnauthorizedError,
} from '@app/core';
import { ChannelWait, channelNames, PubSubService, SendOutcome } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { AgentPrincipal } from '@app/pairing';
import { CallbackSendQueue } from './callback-send.queue';
import { ReplyAcceptedDto, ReplyDeliveredDto, ReplyDto } from './dto/reply.dto';

/** How long before the reply deadline a coalesced send must start. */
export const SEND_MARGIN_MS = { callback: 1000, inline: 150 } as const;
/** A synchronous reply waits this long past the deadline for the send's outcome. */
const SYNC_OUTCOME_GRACE_MS = 6000;

export class CallbackFailedError extends RelayError {
  constructor(reason: string) {
    super(502, 'CALLBACK_FAILED', `Kakao did not take the reply: ${reason}`);
  }
}

/**
 * The agent's answers (contract §5): accepted at once and coalesced per message, sent by one BullMQ job per
 * message; with REPLY_COALESCE_MS=0 each call waits for its own send.
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
  ) {}

  async reply(agent: AgentPrincipal, dto: ReplyDto): Promise<ReplyAcceptedDto | ReplyDeliveredDto> {
    if (!agent.accountId) {
      throw new UnauthorizedError(
        'SESSION_NOT_PAIRED',
        'The session is not paired yet; replies need a paired session.',
      );
    }
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
      const accountId = agent.accountId;
      const outcome = await this.store.acceptReply(
        dto.messageId,
        { replyId, response: dto.response, receivedAt: this.clock.date().toISOString() },
        (target) => this.decide(target, accountId),
      );
      switch (outcome.kind) {
        case 'not_found':
          throw new NotFoundError('MESSAGE_NOT_FOUND', 'No message with this id exists for this agent.');
        case 'already_replied':
          throw new ConflictError('ALREADY_REPLIED', 'The reply to this message was already sent to Kakao.');
        case 'expired':
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
