import { Injectable } from '@nestjs/common';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from '@app/core';

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

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One POST of a SkillResponse to a Kakao callback URL, to the address the policy approved (pinned through the
 * socket's lookup), never following redirects, within a time limit, reading at most 64 KiB of the answer.
 */
@Injectable()
export class CallbackHttpClient {
  attempt(url: URL, address: ResolvedAddress, body: string, timeoutMs: number): Promise<AttemptResult> {
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
      } else {
        callback(null, address.address, address.family);
      }
    };
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const done = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = transport.request(
        url,
        {
          method: 'POST',
          lookup,
          agent: false,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
            'User-Agent': 'kakao-relay',
            Accept: 'application/json',
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
            else res.destroy();
          });
          const finish = () => done(this.judge(status, Buffer.concat(chunks).toString('utf8')));
          res.on('end', finish);
          res.on('close', finish);
          res.on('error', finish);
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        done({
          httpStatus: null,
          kakaoStatus: null,
          ok: false,
          transient: true,
          error: `no answer within ${timeoutMs} ms`,
        });
      }, timeoutMs);
      req.on('error', (e) =>
        done({
          httpStatus: null,
          kakaoStatus: null,
          ok: false,
          transient: true,
          error: `network error: ${e.message}`,
        }),
      );
      req.end(body);
    });
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
