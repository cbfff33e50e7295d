import { Injectable } from '@nestjs/common';
import type { ResolvedAddress } from '@app/core';
import { pinnedPost } from './pinned-post';

export interface AttemptResult {
  /** HTTP status, or null when no response came (network error or timeout). */
  httpStatus: number | null;
  /** Kakao's answer `status` (SUCCESS, FAIL, ERROR) when the body was JSON with one. */
  kakaoStatus: string | null;
  ok: boolean;
  /** Worth another attempt: network errors, timeouts, 5xx, 429. */
  transient: boolean;
  error: string | null;
}

/** One POST of a SkillResponse to a Kakao callback URL (`pinnedPost`), judged by Kakao's answer. */
@Injectable()
export class CallbackHttpClient {
  async attempt(url: URL, address: ResolvedAddress, body: string, timeoutMs: number): Promise<AttemptResult> {
    const answer = await pinnedPost(
      url,
      address,
      body,
      {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': 'kakao-relay',
        Accept: 'application/json',
      },
      timeoutMs,
    );
    if (answer.kind === 'no-answer') {
      return { httpStatus: null, kakaoStatus: null, ok: false, transient: true, error: answer.error };
    }
    return this.judge(answer.status, answer.text);
  }

  private judge(status: number, text: string): AttemptResult {
    let kakaoStatus: string | null = null;
    let message = '';
    try {
      const parsed = JSON.parse(text) as { status?: unknown; message?: unknown };
      if (typeof parsed.status === 'string') kakaoStatus = parsed.status;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not JSON: judged by the status code below
    }
    if (status >= 300 && status < 400) {
      return {
        httpStatus: status,
        kakaoStatus,
        ok: false,
        transient: false,
        error: `redirect (${status}) not followed`,
      };
    }
    if (status >= 500 || status === 429) {
      return {
        httpStatus: status,
        kakaoStatus,
        ok: false,
        transient: true,
        error: `Kakao answered HTTP ${status}`,
      };
    }
    if (status >= 400) {
      return {
        httpStatus: status,
        kakaoStatus,
        ok: false,
        transient: false,
        error: `Kakao answered HTTP ${status}${message ? `: ${message}` : ''}`,
      };
    }
    if (kakaoStatus === 'SUCCESS')
      return { httpStatus: status, kakaoStatus, ok: true, transient: false, error: null };
    return {
      httpStatus: status,
      kakaoStatus,
      ok: false,
      transient: false,
      error: kakaoStatus
        ? `Kakao answered ${kakaoStatus}${message ? `: ${message}` : ''}`
        : 'Kakao did not answer SUCCESS',
    };
  }
}
