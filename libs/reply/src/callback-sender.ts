import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  CallbackRefusedError,
  CallbackUrlPolicy,
  Clock,
  type ResolvedAddress,
  type SkillResponse,
} from '@app/core';
import { AttemptResult, CallbackHttpClient } from './callback-http.client';

/** Resolves callback hosts; a provider of its own so tests can answer for hosts they do not own. */
@Injectable()
export class CallbackDns {
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const answers = await dns.lookup(hostname, { all: true, verbatim: true });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  }
}

export const ATTEMPT_TIMEOUT_MS = 5000;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2000;

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
}

/**
 * Posts a SkillResponse to a callback URL under the URL policy: 5 s per attempt, transient failures (network,
 * timeout, 5xx, 429) retried with exponential backoff while the deadline allows; Kakao's FAIL/ERROR and other
 * 4xx are final. Each attempt is reported to `onAttempt` so it is recorded.
 */
@Injectable()
export class CallbackSender implements OnModuleInit {
  private readonly policy: CallbackUrlPolicy;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly http: CallbackHttpClient,
    dnsResolver: CallbackDns,
    private readonly clock: Clock,
  ) {
    this.policy = new CallbackUrlPolicy(
      { allowedHosts: config.kakaoCallbackAllowedHosts, allowHttp: config.kakaoCallbackAllowHttp },
      (host) => dnsResolver.resolve(host),
    );
  }

  onModuleInit(): void {
    if (this.config.kakaoCallbackAllowHttp) {
      new Logger('CallbackProxy').warn(
        '!!! KAKAO_CALLBACK_ALLOW_HTTP=true: replies may be sent over plain http. For local testing only, never in production !!!',
      );
    }
  }

  async deliver(
    callbackUrl: string,
    response: SkillResponse,
    deadline: number,
    onAttempt: (attempt: number, result: AttemptResult) => Promise<void>,
  ): Promise<DeliveryResult> {
    let target;
    try {
      target = await this.policy.check(callbackUrl);
    } catch (e) {
      if (e instanceof CallbackRefusedError) {
        return { ok: false, attempts: 0, httpStatus: null, error: `refused: ${e.message}` };
      }
      throw e;
    }
    const body = JSON.stringify(response);
    let backoff = FIRST_BACKOFF_MS;
    let attempts = 0;
    let last: AttemptResult | null = null;
    for (;;) {
      const remaining = deadline - this.clock.now();
      if (remaining < 200) break;
      attempts += 1;
      last = await this.http.attempt(
        target.url,
        target.address,
        body,
        Math.min(ATTEMPT_TIMEOUT_MS, remaining),
      );
      await onAttempt(attempts, last);
      if (last.ok || !last.transient) break;
      if (this.clock.now() + backoff >= deadline - 200) break;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    if (!last)
      return { ok: false, attempts, httpStatus: null, error: 'the callback deadline passed before sending' };
    const error = last.ok
      ? null
      : last.transient && attempts > 1
        ? `${last.error} (after ${attempts} attempts)`
        : last.error;
    return { ok: last.ok, attempts, httpStatus: last.httpStatus, error };
  }
}
