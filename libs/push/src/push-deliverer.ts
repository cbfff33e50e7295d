import { Inject, Injectable, Logger } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  AttemptedPushDelivery,
  CallbackRefusedError,
  Clock,
  MicroBatcher,
  PushAttempt,
  PushDelivery,
  PushDeliveryStore,
  PushEndpoint,
  PushEndpointStore,
  RelayError,
} from '@app/core';
import { AgentPrincipal } from '@app/pairing';
import { RelayMetrics } from '@app/platform';
import { ReplyDto, ReplyService } from '@app/reply';
import { classifyPushAnswer, parseRetryAfter, PushVerdict } from './push-policy';
import { PushRoutes } from './push-routes';
import { deliveryBody } from './push-events';
import { PushSender } from './push-send';
import { PushUrlPolicy } from './push-url-policy';

/**
 * How long an endpoint read stays good for the attempts of this process; changes made through the relay drop it
 * at once on every replica (`PushRoutes.onChange`), this bounds what they miss (a lost announcement).
 */
export const ENDPOINT_CACHE_MS = 1000;

/**
 * Attempts' rows are written behind the attempts, those that end within this long of each other in one statement:
 * no one waits for them, and at 1,000 deliveries a second batches of two cost PostgreSQL more than the rows.
 */
export const WRITE_BEHIND_MS = 25;

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

/** What an attempt came to: finished, or to be tried again at `retryAt`. */
export type AttemptOutcome =
  { kind: 'delivered' | 'failed' | 'disabled' } | { kind: 'retry'; retryAt: number } | { kind: 'skipped' };

/**
 * One attempt of one delivery (server-mode §2): the URL checked again and its address pinned, the body signed per
 * Standard Webhooks (both secrets during a rotation), one POST with the `PUSH_TIMEOUT_MS` limit and no redirects;
 * 2xx delivered (and a `{"response": …}` answer to a message handed to `ReplyService` as the agent's reply), 410
 * disables the endpoint, everything else is to be tried again on the retry schedule (`Retry-After` for
 * 429/503). Every attempt is recorded in `push_deliveries` and counted. Used by the delivery job and, for the
 * first attempt, by the process that made the delivery (`PushEvents`).
 */
@Injectable()
export class PushDeliverer {
  private readonly logger = new Logger(PushDeliverer.name);
  private readonly endpointCache = new Map<string, { endpoint: PushEndpoint | null; at: number }>();
  /** Reads of an endpoint in flight (one per endpoint), and a count of announced changes. */
  private readonly endpointReads = new Map<
    string,
    { generation: number; reading: Promise<PushEndpoint | null> }
  >();
  private endpointGeneration = 0;
  /** Plain "delivered" outcomes that finish together are written in one statement. */
  private readonly delivered = new MicroBatcher<
    { id: string; httpStatus: number; latencyMs: number; at: Date },
    void
  >(
    async (items) => {
      await this.deliveries.recordDelivered(items);
      return items.map(() => undefined);
    },
    { maxBatch: 256, maxInFlight: 2, lingerMs: WRITE_BEHIND_MS },
  );

  /**
   * Deliveries attempted before they were stored (`stored: false`, the live path's first attempt) are written
   * with their outcome, those that finish together in one statement; each learns whether its row was stored (not:
   * the message sweep made one meanwhile, which carries on from there).
   */
  private readonly firstAttempts = new MicroBatcher<AttemptedPushDelivery, boolean>(
    async (items) => {
      const stored = new Set(await this.deliveries.insertAttempted(items));
      return items.map((item) => stored.has(item.id));
    },
    { maxBatch: 256, maxInFlight: 2, lingerMs: WRITE_BEHIND_MS },
  );

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly deliveries: PushDeliveryStore,
    private readonly endpoints: PushEndpointStore,
    private readonly routes: PushRoutes,
    private readonly policy: PushUrlPolicy,
    private readonly replies: ReplyService,
    private readonly clock: Clock,
    private readonly metrics: RelayMetrics,
    private readonly sender: PushSender,
  ) {
    // A change announced on any replica (rotation, 410, PUT, DELETE) is seen by the next attempt here.
    routes.onChange((accountId) => {
      this.endpointGeneration += 1;
      for (const [id, cached] of this.endpointCache) {
        if (!cached.endpoint || cached.endpoint.accountId === accountId) this.endpointCache.delete(id);
      }
    });
  }

  /**
   * `stored`: whether the delivery's row exists (a queued delivery) or is written with this attempt's outcome (the
   * live path's first attempt, made before anything is stored; a retry is then queued only if that row was
   * stored — if the message sweep stored the delivery first, its own job carries on, and `skipped` is answered).
   */
  async attempt(delivery: PushDelivery, stored = true): Promise<AttemptOutcome> {
    if (delivery.status !== 'pending') return { kind: 'skipped' };
    const endpoint = await this.endpoint(delivery.endpointId);
    if (!endpoint)
      return this.finish(delivery, stored, 'failed', null, 'the push endpoint was deleted', null);
    if (!endpoint.enabled) {
      const reason = `the push endpoint is disabled (${endpoint.disabledReason ?? 'by its owner'})`;
      return this.finish(delivery, stored, 'failed', null, reason, null);
    }
    const body = deliveryBody(delivery);
    if (body === null) return this.finish(delivery, stored, 'failed', null, 'the message is gone', null);
    const attempt = delivery.attempts + 1;
    let verdict: PushVerdict;
    let httpStatus: number | null = null;
    let latencyMs: number | null = null;
    let replyError: string | null = null;
    try {
      const { url, address } = await this.policy.check(endpoint.url);
      const now = this.clock.now();
      // Signed and sent on the sender's thread (`PushThreadSender`), off this event loop.
      const sent = await this.sender.send({
        url: url.href,
        address,
        secrets: signingSecrets(endpoint, now),
        webhookId: delivery.webhookId,
        signedAt: now,
        body,
        timeoutMs: this.config.pushTimeoutMs,
      });
      const answer = sent.answer;
      latencyMs = Math.round(sent.latencyMs);
      this.metrics.pushLatency.observe(latencyMs / 1000);
      if (answer.kind === 'no-answer') {
        verdict = classifyPushAnswer(null, null, attempt, this.config.pushRetryScale, answer.error);
      } else {
        httpStatus = answer.status;
        const retryAfter = parseRetryAfter(answer.retryAfter ?? undefined, this.clock.now());
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
        if (replyError === null && httpStatus !== null && latencyMs !== null) {
          // Written in the background (batched): the attempt's slot is free for the next delivery at once. If
          // the write is lost the delivery is sent again later (the row stays pending, or the message sweep
          // makes it), with the same webhook-id.
          const at = this.clock.date();
          const written = stored
            ? this.delivered.submit({ id: delivery.id, httpStatus, latencyMs, at })
            : this.firstAttempts.submit(
                this.attempted(delivery, at, {
                  outcome: 'delivered',
                  httpStatus,
                  error: null,
                  latencyMs,
                  nextAttemptAt: null,
                }),
              );
          written.catch((e: Error) =>
            this.logger.warn(`push ${delivery.id} delivered, not recorded: ${e.message}`),
          );
          this.metrics.pushDeliveries.inc({ outcome: 'delivered' });
          return { kind: 'delivered' };
        }
        return this.finish(delivery, stored, 'delivered', httpStatus, null, latencyMs, replyError);
      case 'gone': {
        const at = this.clock.date().toISOString();
        await this.endpoints.disable(endpoint.id, `the receiver answered 410 Gone (${at})`);
        // Drops this process's copy of the endpoint (`onChange` above) and tells the other processes.
        await this.routes.changed(endpoint.accountId);
        const error = 'the receiver answered 410 Gone: endpoint disabled';
        await this.record(
          delivery,
          stored,
          { outcome: 'failed', httpStatus, error, latencyMs, nextAttemptAt: null },
          'disabled',
        );
        this.logger.warn(`push endpoint ${endpoint.id} of account ${endpoint.accountId} disabled: 410 Gone`);
        return { kind: 'disabled' };
      }
      case 'failed':
        return this.finish(delivery, stored, 'failed', httpStatus, verdict.reason, latencyMs);
      case 'retry': {
        const retryAt = this.clock.now() + verdict.delayMs;
        const kept = await this.record(
          delivery,
          stored,
          {
            outcome: 'retrying',
            httpStatus,
            error: verdict.reason,
            latencyMs,
            nextAttemptAt: new Date(retryAt),
          },
          'retrying',
        );
        return kept ? { kind: 'retry', retryAt } : { kind: 'skipped' };
      }
    }
  }

  /**
   * The endpoint as this process read it at most `ENDPOINT_CACHE_MS` ago. Once a copy is half that old it is read
   * again in the background (one read, whatever the number of attempts asking), so that under a steady flow no
   * attempt waits for the database — at 1,000 deliveries a second, all of the next milliseconds' attempts would,
   * behind the webhooks' inserts. Only a first read, one after a change was announced, or one after a quiet spell
   * is waited for.
   */
  private async endpoint(id: string): Promise<PushEndpoint | null> {
    const cached = this.endpointCache.get(id);
    const age = cached ? this.clock.now() - cached.at : Infinity;
    if (!cached || age >= ENDPOINT_CACHE_MS) return this.readEndpoint(id);
    if (age >= ENDPOINT_CACHE_MS / 2) {
      this.readEndpoint(id).catch((e: Error) =>
        this.logger.warn(`push endpoint ${id} not read again: ${e.message}`),
      );
    }
    return cached.endpoint;
  }

  private readEndpoint(id: string): Promise<PushEndpoint | null> {
    const generation = this.endpointGeneration;
    const inFlight = this.endpointReads.get(id);
    // A read started before a change was announced may bring the old endpoint: not joined.
    if (inFlight && inFlight.generation === generation) return inFlight.reading;
    const at = this.clock.now();
    const reading = this.endpoints
      .findById(id)
      .then((endpoint) => {
        if (generation === this.endpointGeneration) {
          if (this.endpointCache.size > 10_000) this.endpointCache.clear();
          this.endpointCache.set(id, { endpoint, at });
        }
        return endpoint;
      })
      .finally(() => {
        if (this.endpointReads.get(id)?.reading === reading) this.endpointReads.delete(id);
      });
    this.endpointReads.set(id, { generation, reading });
    return reading;
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
    stored: boolean,
    outcome: 'delivered' | 'failed',
    httpStatus: number | null,
    error: string | null,
    latencyMs: number | null,
    replyError: string | null = null,
  ): Promise<AttemptOutcome> {
    await this.record(
      delivery,
      stored,
      { outcome, httpStatus, error, latencyMs, nextAttemptAt: null, replyError },
      outcome,
    );
    if (outcome === 'failed') {
      this.logger.warn(`push delivery ${delivery.id} (${delivery.webhookId}) failed: ${error}`);
    }
    return { kind: outcome };
  }

  /** Writes the attempt (an update, or the row itself when `stored` is false); answers whether it was kept. */
  private async record(
    delivery: PushDelivery,
    stored: boolean,
    attempt: PushAttempt,
    counted: string,
  ): Promise<boolean> {
    const at = this.clock.date();
    let kept = true;
    if (stored) await this.deliveries.recordAttempt(delivery.id, attempt, at);
    else kept = await this.firstAttempts.submit(this.attempted(delivery, at, attempt));
    this.metrics.pushDeliveries.inc({ outcome: counted });
    return kept;
  }

  /** The row of a first attempt made before anything was stored: such a delivery is in memory, with its body. */
  private attempted(delivery: PushDelivery, at: Date, attempt: PushAttempt): AttemptedPushDelivery {
    const { endpointId, accountId, webhookId, eventType, seq, messageId, body, id, createdAt } = delivery;
    if (body === null) throw new Error(`push ${id}: an unstored delivery without its body`);
    return { endpointId, accountId, webhookId, eventType, seq, messageId, body, id, createdAt, attempt, at };
  }
}
