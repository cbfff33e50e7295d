import { Inject, Injectable } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { ClaimedSend, Clock, mergeWithHeld, ReplyStore, SkillResponse } from '@app/core';
import {
  CallbackSendJob,
  channelNames,
  PubSubService,
  QueueWorker,
  QUEUES,
  SendOutcome,
  StreamEventPublisher,
} from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { CallbackSender, DeliveryResult } from './callback-sender';

/** Kakao keeps a callback URL for 1 minute; sends never go on past this much after the request. */
const KAKAO_CALLBACK_LIFETIME_MS = 59_000;
/** Sends may continue a little past the reply deadline (retries of a send that started in time). */
const SEND_GRACE_MS = 4000;

type Outcome = 'sent' | 'failed' | 'skipped';

/**
 * The one send job of a message: waits out the coalescing quiet time (re-delaying itself if later replies
 * extended it), claims the accepted replies, merges them, and hands them to Kakao — the callback URL, or in
 * inline mode the webhook waiting on some replica. Records the outcome, tells a synchronous reply, and reports
 * failures on the account's streams as `error` events naming the message.
 */
@Injectable()
export class CallbackSendWorker extends QueueWorker<CallbackSendJob, Outcome> {
  protected readonly queueName = QUEUES.callbackSend;
  protected override readonly concurrency = 64;

  constructor(
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly store: ReplyStore,
    private readonly sender: CallbackSender,
    private readonly pubsub: PubSubService,
    private readonly events: StreamEventPublisher,
    private readonly metrics: RelayMetrics,
    private readonly clock: Clock,
  ) {
    super(config);
  }

  async process(job: Job<CallbackSendJob, Outcome>, token?: string): Promise<Outcome> {
    const { messageId } = job.data;
    const claimed = await this.store.claimDue(messageId, this.clock.date());
    if (!claimed) {
      // Not due: later replies extended the quiet time since this job was queued; run again when it ends.
      const state = await this.store.sendState(messageId);
      if (
        state?.status === 'pending' &&
        state.sendAfter &&
        state.sendAfter.getTime() > this.clock.now() + 5
      ) {
        await job.moveToDelayed(state.sendAfter.getTime(), token);
        throw new DelayedError();
      }
      return 'skipped';
    }
    // Held answers of the conversation (server-mode §4) go first, as many as fit in Kakao's 3 outputs.
    const { response, droppedOutputs, heldIncluded } = mergeWithHeld(
      claimed.held.map((h) => h.replies.map((r) => r.response)),
      claimed.replies.map((r) => r.response),
    );
    const heldIds = claimed.held.slice(0, heldIncluded).map((h) => h.id);
    if (droppedOutputs > 0) {
      this.logger.warn(`message ${messageId}: ${droppedOutputs} outputs beyond Kakao's 3 were dropped`);
    }
    const stopTimer = this.metrics.callbackDuration.startTimer();
    const result =
      claimed.mode === 'inline'
        ? await this.answerInline(messageId, response)
        : await this.callback(claimed, response);
    stopTimer();
    const outcome = result.ok ? 'sent' : result.error?.startsWith('refused:') ? 'refused' : 'failed';
    this.metrics.callbackSends.inc({ outcome, mode: claimed.mode });
    if (result.ok) this.metrics.messagesReplied.inc();
    if (result.ok && heldIds.length > 0)
      this.metrics.heldAnswers.inc({ event: 'sent_next_answer' }, heldIds.length);
    const finishedAt = await this.store.finish(claimed.id, { ...result, response, heldIncluded: heldIds });
    await this.announce(messageId, claimed.accountId, result, finishedAt);
    return result.ok ? 'sent' : 'failed';
  }

  private async callback(claimed: ClaimedSend, response: SkillResponse): Promise<DeliveryResult> {
    if (!claimed.callbackUrl) return { ok: false, attempts: 0, httpStatus: null, error: 'no callback URL' };
    const deadline = Math.min(
      claimed.createdAt.getTime() + KAKAO_CALLBACK_LIFETIME_MS,
      claimed.replyDeadline.getTime() + SEND_GRACE_MS,
    );
    return this.sender.deliver(claimed.callbackUrl, response, deadline, (attempt, r) =>
      this.store.recordAttempt(claimed.id, claimed.attempts + attempt, r.httpStatus, r.error),
    );
  }

  /** Inline mode: the webhook that holds Kakao's request listens on the message's channel, on any replica. */
  private async answerInline(messageId: string, response: SkillResponse): Promise<DeliveryResult> {
    try {
      const receivers = await this.pubsub.publish(
        this.pubsub.channel(...channelNames.inlineReply(messageId)),
        JSON.stringify(response),
      );
      if (receivers > 0) return { ok: true, attempts: 1, httpStatus: null, error: null };
      return {
        ok: false,
        attempts: 1,
        httpStatus: null,
        error: 'the Kakao request was no longer waiting for the reply',
      };
    } catch (e) {
      return {
        ok: false,
        attempts: 1,
        httpStatus: null,
        error: `could not hand the reply over: ${(e as Error).message}`,
      };
    }
  }

  private async announce(
    messageId: string,
    accountId: string,
    result: DeliveryResult,
    at: Date,
  ): Promise<void> {
    const outcome: SendOutcome = result.ok
      ? { status: 'sent', deliveredAt: at.getTime() }
      : { status: 'failed', error: result.error ?? 'unknown error' };
    const tasks: Promise<unknown>[] = [
      this.pubsub.publish(
        this.pubsub.channel(...channelNames.sendOutcome(messageId)),
        JSON.stringify(outcome),
      ),
    ];
    if (!result.ok) {
      this.logger.warn(`reply to message ${messageId} failed: ${result.error}`);
      tasks.push(
        this.events.toAccount(accountId, {
          kind: 'error',
          data: {
            code: 'CALLBACK_FAILED',
            message: `The reply to message ${messageId} did not reach Kakao: ${result.error}`,
            messageId,
          },
        }),
      );
    }
    const settled = await Promise.allSettled(tasks);
    for (const s of settled) {
      if (s.status === 'rejected')
        this.logger.warn(`could not announce outcome of ${messageId}: ${String(s.reason)}`);
    }
  }
}
