import { Inject, Injectable } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { performance } from 'node:perf_hooks';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  CallbackRefusedError,
  Clock,
  PushAttempt,
  PushDelivery,
  PushDeliveryStore,
  PushEndpoint,
  PushEndpointStore,
  RelayError,
} from '@app/core';
import { PushDeliveryJob, QueueWorker, QUEUES } from '@app/messaging';
import { AgentPrincipal } from '@app/pairing';
import { RelayMetrics } from '@app/platform';
import { pinnedPost, ReplyDto, ReplyService } from '@app/reply';
import { classifyPushAnswer, parseRetryAfter, PushVerdict } from './push-policy';
import { PushRoutes } from './push-routes';
import { signPush } from './push-signing';
import { PushUrlPolicy } from './push-url-policy';

type Outcome = 'delivered' | 'failed' | 'disabled' | 'skipped';

/** The secrets that sign an attempt at `now`: the current one, and the previous one during its 24 h. */
export function signingSecrets(endpoint: PushEndpoint, now: number): string[] {
  const previous =
    endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil.getTime() > now
      ? [endpoint.previousSecret]
      : [];
  return [endpoint.secret, ...previous];
}

/**
 * A sync reply: a 2xx answer to a `message.received` delivery whose JSON body is `{"response": …}`. Returns the
 * response, or undefined when the answer is not one.
 */
export function syncReplyOf(text: string): unknown {
  if (!text || text.length < 2) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'response' in parsed) {
      return (parsed as { response: unknown }).response;
    }
  } catch {
    // not JSON: an ordinary acknowledgement
  }
  return undefined;
}

/**
 * The delivery job of one event to one push endpoint (server-mode §2): the URL checked again and its address
 * pinned, the body signed per Standard Webhooks (both secrets during a rotation), one POST with the
 * `PUSH_TIMEOUT_MS` limit and no redirects; 2xx delivered (and a `{"response": …}` answer to a message handed to
 * `ReplyService` as the agent's reply), 410 disables the endpoint, everything else waits the retry schedule
 * (`Retry-After` for 429/503) by delaying the job. Every attempt is recorded in `push_deliveries` and counted.
 */
@Injectable()
export class PushDeliveryWorker extends QueueWorker<PushDeliveryJob, Outcome> {
  protected readonly queueName = QUEUES.pushDelivery;
  protected override readonly concurrency = 64;
  // A relay killed mid-attempt: its active jobs run again within seconds, not BullMQ's default 30 s.
  protected override readonly stallOptions = { lockDuration: 10_000, stalledInterval: 5_000 };

  constructor(
    @Inject(RELAY_CONFIG) config: RelayConfig,
    private readonly deliveries: PushDeliveryStore,
    private readonly endpoints: PushEndpointStore,
    private readonly routes: PushRoutes,
    private readonly policy: PushUrlPolicy,
    private readonly replies: ReplyService,
    private readonly clock: Clock,
    private readonly metrics: RelayMetrics,
  ) {
    super(config);
  }

  async process(job: Job<PushDeliveryJob, Outcome>, token?: string): Promise<Outcome> {
    const delivery = await this.deliveries.find(job.data.deliveryId);
    if (!delivery || delivery.status !== 'pending') return 'skipped';
    const due = delivery.nextAttemptAt?.getTime() ?? 0;
    if (due > this.clock.now() + 5) return this.delay(job, due, token);
    const endpoint = await this.endpoints.findById(delivery.endpointId);
    if (!endpoint) return this.finish(delivery, 'failed', null, 'the push endpoint was deleted', null);
    if (!endpoint.enabled) {
      const reason = `the push endpoint is disabled (${endpoint.disabledReason ?? 'by its owner'})`;
      return this.finish(delivery, 'failed', null, reason, null);
    }
    const attempt = delivery.attempts + 1;
    let verdict: PushVerdict;
    let httpStatus: number | null = null;
    let latencyMs: number | null = null;
    let replyError: string | null = null;
    try {
      const { url, address } = await this.policy.check(endpoint.url);
      const headers = signPush(
        signingSecrets(endpoint, this.clock.now()),
        delivery.webhookId,
        this.clock.date(),
        delivery.body,
      );
      const started = performance.now();
      const answer = await pinnedPost(
        url,
        address,
        delivery.body,
        { ...headers, 'user-agent': 'kakao-relay-push' },
        this.config.pushTimeoutMs,
      );
      latencyMs = Math.round(performance.now() - started);
      this.metrics.pushLatency.observe(latencyMs / 1000);
      if (answer.kind === 'no-answer') {
        verdict = classifyPushAnswer(null, null, attempt, this.config.pushRetryScale, answer.error);
      } else {
        httpStatus = answer.status;
        const retryAfter = parseRetryAfter(answer.headers['retry-after'], this.clock.now());
        verdict = classifyPushAnswer(answer.status, retryAfter, attempt, this.config.pushRetryScale);
        if (verdict.kind === 'delivered' && delivery.eventType === 'message.received' && delivery.messageId) {
          const response = syncReplyOf(answer.text);
          if (response !== undefined) replyError = await this.syncReply(delivery, response);
        }
      }
    } catch (e) {
      if (!(e instanceof CallbackRefusedError)) throw e;
      verdict = classifyPushAnswer(null, null, attempt, this.config.pushRetryScale, `refused: ${e.message}`);
    }
    switch (verdict.kind) {
      case 'delivered':
        return this.finish(delivery, 'delivered', httpStatus, null, latencyMs, replyError);
      case 'gone': {
        await this.endpoints.disable(
          endpoint.id,
          `the receiver answered 410 Gone (${this.clock.date().toISOString()})`,
        );
        await this.routes.changed(endpoint.accountId);
        await this.record(
          delivery,
          {
            outcome: 'failed',
            httpStatus,
            error: 'the receiver answered 410 Gone: endpoint disabled',
            latencyMs,
            nextAttemptAt: null,
          },
          'disabled',
        );
        this.logger.warn(`push endpoint ${endpoint.id} of account ${endpoint.accountId} disabled: 410 Gone`);
        return 'disabled';
      }
      case 'failed':
        return this.finish(delivery, 'failed', httpStatus, verdict.reason, latencyMs);
      case 'retry': {
        const at = this.clock.now() + verdict.delayMs;
        await this.record(
          delivery,
          { outcome: 'retrying', httpStatus, error: verdict.reason, latencyMs, nextAttemptAt: new Date(at) },
          'retrying',
        );
        return this.delay(job, at, token);
      }
    }
  }

  /** Hands `{"response": …}` to the reply path, under its rules; answers the refusal, or null when accepted. */
  private async syncReply(delivery: PushDelivery, response: unknown): Promise<string | null> {
    const dto = plainToInstance(ReplyDto, { messageId: delivery.messageId, response });
    const problems = await validate(dto);
    if (problems.length > 0) {
      const text = problems.flatMap((p) => Object.values(p.constraints ?? {})).join('; ');
      return `VALIDATION_ERROR: ${text}`;
    }
    const agent: AgentPrincipal = {
      kind: 'account',
      sessionId: null,
      accountId: delivery.accountId,
      status: 'paired',
      expiresAt: null,
      tokenHash: '',
    };
    try {
      await this.replies.reply(agent, dto);
      return null;
    } catch (e) {
      if (e instanceof RelayError) return `${e.code}: ${e.message}`;
      return `INTERNAL_ERROR: ${(e as Error).message}`;
    }
  }

  private async finish(
    delivery: PushDelivery,
    outcome: 'delivered' | 'failed',
    httpStatus: number | null,
    error: string | null,
    latencyMs: number | null,
    replyError: string | null = null,
  ): Promise<Outcome> {
    await this.record(
      delivery,
      { outcome, httpStatus, error, latencyMs, nextAttemptAt: null, replyError },
      outcome,
    );
    if (outcome === 'failed')
      this.logger.warn(`push delivery ${delivery.id} (${delivery.webhookId}) failed: ${error}`);
    return outcome;
  }

  private async record(delivery: PushDelivery, attempt: PushAttempt, counted: string): Promise<void> {
    await this.deliveries.recordAttempt(delivery.id, attempt, this.clock.date());
    this.metrics.pushDeliveries.inc({ outcome: counted });
  }

  private async delay(job: Job<PushDeliveryJob, Outcome>, at: number, token?: string): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }
}
