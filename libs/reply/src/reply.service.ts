import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { ConflictError, NotFoundError, RelayError, UnauthorizedError } from '@app/core';
import { ChannelWait, channelNames, PubSubService, SendOutcome } from '@app/messaging';
import { OutboundMessagesRepository } from '@app/persistence';
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
    private readonly outbound: OutboundMessagesRepository,
    private readonly sends: CallbackSendQueue,
    private readonly pubsub: PubSubService,
    private readonly metrics: RelayMetrics,
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
      const outcome = await this.outbound.acceptReply({
        messageId: dto.messageId,
        accountId: agent.accountId,
        reply: { replyId, response: dto.response, receivedAt: new Date().toISOString() },
        coalesceMs: this.config.replyCoalesceMs,
        sendMarginMs: SEND_MARGIN_MS,
      });
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

  private async awaitOutcome(messageId: string, wait: ChannelWait): Promise<ReplyDeliveredDto> {
    const raw = await wait.result;
    if (raw !== null) {
      const outcome = JSON.parse(raw) as SendOutcome;
      if (outcome.status === 'sent') return { success: true, deliveredAt: outcome.deliveredAt };
      throw new CallbackFailedError(outcome.error);
    }
    const row = await this.outbound.findByInboundMessageId(messageId);
    if (row?.status === 'sent' && row.sentAt) return { success: true, deliveredAt: row.sentAt.getTime() };
    throw new CallbackFailedError(row?.error ?? 'no outcome before the deadline');
  }
}
