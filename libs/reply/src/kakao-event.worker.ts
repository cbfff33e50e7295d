import { Inject, Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { HeldAnswer, HeldAnswerStore, KakaoBotStore } from '@app/core';
import { KakaoEventJob, QueueWorker, QUEUES, StreamEventPublisher } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { KakaoEventApiClient } from './kakao-event.client';
import { classifyEventApiAnswer } from './kakao-event.policy';
import { KAKAO_EVENT_JOB_OPTIONS } from './kakao-event.queue';

type Outcome = 'accepted' | 'failed' | 'skipped';

/**
 * The Event API job of one held answer (server-mode §4, §6): asks Kakao to run the bot's event block for the
 * user, with the event data `{"heldId"}`. Every attempt is recorded on the held answer; transient failures are
 * retried by BullMQ (`KAKAO_EVENT_JOB_OPTIONS`); a refusal, or the last transient failure, gives the held answer
 * back to the next-answer path and tells the agent with an `error` event `KAKAO_EVENT_FAILED`. Accepted, it waits
 * in `event_pending` for the block's skill request (`KakaoChannelAdapter.answerDirectly`).
 */
@Injectable()
export class KakaoEventWorker extends QueueWorker<KakaoEventJob, Outcome> {
  protected readonly queueName = QUEUES.kakaoEvent;
  protected override readonly concurrency = 16;

  constructor(
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly held: HeldAnswerStore,
    private readonly bots: KakaoBotStore,
    private readonly client: KakaoEventApiClient,
    private readonly events: StreamEventPublisher,
    private readonly metrics: RelayMetrics,
  ) {
    super(config);
  }

  async process(job: Job<KakaoEventJob, Outcome>): Promise<Outcome> {
    const answer = await this.held.find(job.data.heldId);
    if (!answer || answer.status !== 'event_pending') return 'skipped';
    const settings = await this.bots.eventSettings(answer.botId);
    if (!settings || !answer.botUserKey) {
      await this.fail(answer, 'the bot has no Event API settings any more');
      return 'failed';
    }
    const result = await this.client.call(settings, answer.botUserKey, answer.id);
    const verdict = classifyEventApiAnswer(result);
    const taskId = verdict.kind === 'accepted' ? verdict.taskId : null;
    const error = verdict.kind === 'accepted' ? null : verdict.error;
    await this.held.recordEventAttempt(answer.id, result.httpStatus, error, taskId);
    if (verdict.kind === 'accepted') {
      this.metrics.heldAnswers.inc({ event: 'event_accepted' });
      return 'accepted';
    }
    const attempts = job.opts.attempts ?? KAKAO_EVENT_JOB_OPTIONS.attempts;
    if (verdict.kind === 'retry' && job.attemptsMade + 1 < attempts) {
      throw new Error(verdict.error);
    }
    const final =
      verdict.kind === 'retry' ? `${verdict.error} (after ${job.attemptsMade + 1} attempts)` : error;
    await this.fail(answer, final ?? 'refused');
    return 'failed';
  }

  private async fail(answer: HeldAnswer, error: string): Promise<void> {
    const heldId = answer.id;
    await this.held.releaseEvent(heldId, error);
    this.metrics.heldAnswers.inc({ event: 'event_failed' });
    this.logger.warn(`Event API for held answer ${heldId} failed: ${error}`);
    try {
      await this.events.toAccount(answer.accountId, {
        kind: 'error',
        data: {
          code: 'KAKAO_EVENT_FAILED',
          message: `Kakao's Event API did not take held answer ${heldId} (${error}); it goes with the conversation's next answer instead.`,
          // The message the late answer was for, or the proactive message's id.
          messageId: answer.inboundMessageId ?? heldId,
        },
      });
    } catch (e) {
      this.logger.warn(`could not report the Event API failure of ${heldId}: ${(e as Error).message}`);
    }
  }
}
