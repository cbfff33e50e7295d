import { Inject, Injectable } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  Clock,
  WorksBotCredentials,
  WorksBotStore,
  WorksSend,
  WorksSendAttempt,
  WorksSendStore,
} from '@app/core';
import { QueueWorker, QUEUES, StreamEventPublisher, WorksSendJob } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { WorksAccessTokens } from './works-access-tokens';
import { WorksApiAnswer, WorksApiClient } from './works-api.client';
import { WorksAuthError } from './works-auth.client';
import { classifyWorksAnswer } from './works-send-policy';
import { WorksSendQueue } from './works-send.queue';

/** How soon a message waiting behind an earlier one of its conversation looks again. */
const ORDER_WAIT_MS = 100;
/** … when the earlier one is between attempts (it waits a second or more itself). */
const ORDER_WAIT_RETRYING_MS = 1000;

type Outcome = 'sent' | 'failed' | 'waiting' | 'skipped';

/**
 * The send job of one Works message. Order within a conversation: the job goes out only once every message of
 * lower `seq` is sent or failed (otherwise it delays itself and makes sure the earlier one's job exists).
 * Then: the bot's credentials, the shared access token, one POST; a 401 renews the token once and posts again;
 * 429 and 5xx/no answer delay the job (Retry-After or backoff) while `WORKS_SEND_RETRY_SECONDS` allow; other
 * refusals fail at once. Every attempt is recorded; a failure is an `error` event on the account's streams.
 */
@Injectable()
export class WorksSendWorker extends QueueWorker<WorksSendJob, Outcome> {
  protected readonly queueName = QUEUES.worksSend;
  protected override readonly concurrency = 32;

  constructor(
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly store: WorksSendStore,
    private readonly bots: WorksBotStore,
    private readonly tokens: WorksAccessTokens,
    private readonly api: WorksApiClient,
    private readonly queue: WorksSendQueue,
    private readonly events: StreamEventPublisher,
    private readonly clock: Clock,
    private readonly metrics: RelayMetrics,
  ) {
    super(config);
  }

  async process(job: Job<WorksSendJob, Outcome>, token?: string): Promise<Outcome> {
    const send = await this.store.find(job.data.sendId);
    if (!send || send.status === 'sent' || send.status === 'failed') return 'skipped';
    const earlier = await this.store.firstUnfinishedBefore(send.conversationKey, send.seq);
    if (earlier) {
      // Its job may have been lost (Redis flushed between the insert and the queueing): the add is a no-op else.
      await this.queue.add([earlier.id]);
      await this.delay(job, earlier.status === 'retrying' ? ORDER_WAIT_RETRYING_MS : ORDER_WAIT_MS, token);
    }
    const bot = await this.bots.findByBotId(send.target.botId);
    if (!bot || !bot.enabled) {
      const reason = bot ? 'is disabled' : 'is not registered';
      return this.fail(send, null, `Works bot ${send.target.botId} ${reason}`);
    }
    const answer = await this.post(send, bot);
    const attempt = send.attempts + 1;
    const verdict = classifyWorksAnswer(answer.httpStatus, answer.retryAfter, attempt, this.clock.now());
    switch (verdict.kind) {
      case 'sent':
        await this.record(
          send.id,
          { outcome: 'sent', httpStatus: answer.httpStatus, error: null },
          this.clock.date(),
        );
        return 'sent';
      case 'unauthorized':
      case 'failed':
        return this.fail(send, answer.httpStatus, answer.error ?? `Works answered HTTP ${answer.httpStatus}`);
      case 'retry': {
        const giveUpAt = send.createdAt.getTime() + this.config.worksSendRetrySeconds * 1000;
        const error = answer.error ?? 'no answer';
        if (this.clock.now() + verdict.delayMs > giveUpAt) {
          return this.fail(
            send,
            answer.httpStatus,
            `${error}; gave up after ${attempt} attempts (WORKS_SEND_RETRY_SECONDS=${this.config.worksSendRetrySeconds})`,
          );
        }
        await this.record(
          send.id,
          { outcome: 'retrying', httpStatus: answer.httpStatus, error },
          this.clock.date(),
        );
        return this.delay(job, verdict.delayMs, token);
      }
    }
  }

  /**
   * One POST with the shared token; on 401 the token that failed is invalidated, renewed (once across the
   * cluster) and the POST repeated once — the first 401 is recorded as an attempt of its own.
   */
  private async post(send: WorksSend, bot: WorksBotCredentials): Promise<WorksApiAnswer> {
    let accessToken: string;
    try {
      accessToken = await this.tokens.token(bot);
    } catch (e) {
      return this.authFailure(e);
    }
    const first = await this.api.send(send.target, send.content, accessToken);
    if (first.httpStatus !== 401) return first;
    await this.record(
      send.id,
      {
        outcome: 'retrying',
        httpStatus: 401,
        error: `${first.error ?? 'HTTP 401'}; renewing the access token`,
      },
      this.clock.date(),
    );
    send.attempts += 1;
    try {
      accessToken = await this.tokens.invalidate(bot, accessToken);
    } catch (e) {
      return this.authFailure(e);
    }
    return this.api.send(send.target, send.content, accessToken);
  }

  /** A token that could not be had is judged like a send answer: retried when Works or the network failed. */
  private authFailure(e: unknown): WorksApiAnswer {
    const status = e instanceof WorksAuthError ? e.httpStatus : null;
    const message = `could not get a Works access token: ${(e as Error).message}`;
    // The token endpoint's 4xx (bad key, unknown client) is not the send API's 401: fail, do not renew again.
    return { httpStatus: status === 401 ? 400 : status, retryAfter: null, error: message };
  }

  private async delay(job: Job<WorksSendJob, Outcome>, ms: number, token?: string): Promise<never> {
    await job.moveToDelayed(this.clock.now() + ms, token);
    throw new DelayedError();
  }

  private async fail(send: WorksSend, httpStatus: number | null, error: string): Promise<'failed'> {
    await this.record(send.id, { outcome: 'failed', httpStatus, error }, this.clock.date());
    const messageId = send.inboundMessageId ?? send.id;
    this.logger.warn(`Works send ${send.id} (message ${messageId}) failed: ${error}`);
    if (!send.accountId) return 'failed'; // a conversation not paired: no agent to tell
    await this.events
      .toAccount(send.accountId, {
        kind: 'error',
        data: {
          code: 'WORKS_SEND_FAILED',
          message: `Works message ${send.id} (seq ${send.seq} of ${send.conversationKey}) was not sent: ${error}`,
          messageId,
        },
      })
      .catch((e: Error) => this.logger.warn(`could not report the failure of ${send.id}: ${e.message}`));
    return 'failed';
  }

  /** Records an attempt in `works_sends` and counts it (`relay_works_sends_total{outcome}`). */
  private async record(sendId: string, attempt: WorksSendAttempt, at: Date): Promise<void> {
    await this.store.recordAttempt(sendId, attempt, at);
    this.metrics.worksSends.inc({ outcome: attempt.outcome });
  }
}
