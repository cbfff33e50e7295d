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

/** What came back from one pinned POST: the answer (status, headers, at most 64 KiB of body) or why none came. */
export type PinnedAnswer =
  | { kind: 'answer'; status: number; headers: http.IncomingHttpHeaders; text: string }
  | { kind: 'no-answer'; error: string };

/**
 * One POST to the address a URL policy approved (pinned through the socket's lookup, so a second DNS answer
 * cannot redirect it), never following redirects, within a time limit, reading at most 64 KiB of the answer.
 * Shared by the callback proxy and push delivery (`@app/push`).
 */
export function pinnedPost(
  url: URL,
  address: ResolvedAddress,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  /** A keep-alive agent whose sockets all go to `address` (push); none: one connection per request. */
  agent: http.Agent | false = false,
): Promise<PinnedAnswer> {
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
    } else {
      callback(null, address.address, address.family);
    }
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PinnedAnswer>((resolve) => {
    let settled = false;
    const done = (result: PinnedAnswer) => {
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
        agent,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
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
        const finish = () =>
          done({
            kind: 'answer',
            status,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ kind: 'no-answer', error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (e) => done({ kind: 'no-answer', error: `network error: ${e.message}` }));
    req.end(body);
  });
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
