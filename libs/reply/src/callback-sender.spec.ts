import { Logger } from '@nestjs/common';
import { parseConfig } from '@app/config';
import { ResolvedAddress, SkillResponse, SystemClock } from '@app/core';
import type { AttemptResult, CallbackHttpClient } from './callback-http.client';
import { ATTEMPT_TIMEOUT_MS, CallbackDns, CallbackSender } from './callback-sender';

const URL_OK = 'https://bot-api.kakao.com/v1/callback/abc';
const PUBLIC: ResolvedAddress = { address: '211.249.220.24', family: 4 };
const START = Date.UTC(2026, 0, 1, 12);
const response: SkillResponse = { version: '2.0', template: { outputs: [{ simpleText: { text: 'hi' } }] } };

const ok: AttemptResult = {
  httpStatus: 200,
  kakaoStatus: 'SUCCESS',
  ok: true,
  transient: false,
  error: null,
};
const serverError: AttemptResult = {
  httpStatus: 500,
  kakaoStatus: null,
  ok: false,
  transient: true,
  error: 'Kakao answered HTTP 500',
};
const timeout = (ms: number): AttemptResult => ({
  httpStatus: null,
  kakaoStatus: null,
  ok: false,
  transient: true,
  error: `no answer within ${ms} ms`,
});
const network: AttemptResult = {
  httpStatus: null,
  kakaoStatus: null,
  ok: false,
  transient: true,
  error: 'network error: connect ECONNREFUSED',
};
const badRequest: AttemptResult = {
  httpStatus: 400,
  kakaoStatus: null,
  ok: false,
  transient: false,
  error: 'Kakao answered HTTP 400: invalid callback token',
};
const kakaoFail: AttemptResult = {
  httpStatus: 200,
  kakaoStatus: 'FAIL',
  ok: false,
  transient: false,
  error: 'Kakao answered FAIL: expired',
};

interface Call {
  at: number;
  url: string;
  address: ResolvedAddress;
  body: string;
  timeoutMs: number;
}

/**
 * The HTTP client answers from a script; an attempt that times out takes its whole time limit (the fake timers
 * advance by it), others take `latencyMs`.
 */
function scriptedHttp(script: AttemptResult[], latencyMs = 20) {
  const calls: Call[] = [];
  const http = {
    attempt: async (url: URL, address: ResolvedAddress, body: string, timeoutMs: number) => {
      calls.push({ at: Date.now(), url: url.href, address, body, timeoutMs });
      const result = script.length > 1 ? script.shift()! : script[0];
      const took = result.error?.startsWith('no answer') ? timeoutMs : latencyMs;
      await new Promise((r) => setTimeout(r, took));
      return result.error?.startsWith('no answer') ? timeout(timeoutMs) : result;
    },
  };
  return { http: http as unknown as CallbackHttpClient, calls };
}

function dnsAnswering(answers: Record<string, ResolvedAddress[]>): CallbackDns {
  return {
    resolve: async (host: string) => {
      const found = answers[host];
      if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
      return found;
    },
  };
}

function setup(script: AttemptResult[], latencyMs?: number) {
  const { http, calls } = scriptedHttp(script, latencyMs);
  const dns = dnsAnswering({
    'bot-api.kakao.com': [PUBLIC],
    'internal.kakao.com': [{ address: '10.1.2.3', family: 4 }],
  });
  const sender = new CallbackSender(parseConfig({}), http, dns, new SystemClock());
  const attempts: Array<[number, AttemptResult]> = [];
  const onAttempt = async (n: number, r: AttemptResult) => void attempts.push([n, r]);
  /** Runs a delivery to its end, moving the fake time along. */
  const deliver = async (url: string, deadline: number) => {
    const done = sender.deliver(url, response, deadline, onAttempt);
    await jest.runAllTimersAsync();
    return done;
  };
  return { sender, calls, attempts, deliver };
}

describe('CallbackSender', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));
  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  it('posts the response once to the address the policy resolved, and reports success', async () => {
    const { deliver, calls, attempts } = setup([ok]);
    const result = await deliver(URL_OK, START + 30_000);
    expect(result).toEqual({ ok: true, attempts: 1, httpStatus: 200, error: null });
    expect(calls).toEqual([
      {
        at: START,
        url: URL_OK,
        address: PUBLIC,
        body: JSON.stringify(response),
        timeoutMs: ATTEMPT_TIMEOUT_MS,
      },
    ]);
    expect(attempts).toEqual([[1, ok]]);
  });

  it.each([
    ['a 4xx', badRequest],
    ["Kakao's FAIL", kakaoFail],
  ])('takes %s as final: one attempt, its error recorded', async (_name, answer) => {
    const { deliver, calls } = setup([answer]);
    const result = await deliver(URL_OK, START + 30_000);
    expect(result).toEqual({ ok: false, attempts: 1, httpStatus: answer.httpStatus, error: answer.error });
    expect(calls).toHaveLength(1);
  });

  it('retries 5xx with exponential backoff (250 ms, 500 ms, 1 s, 2 s, capped) until it succeeds', async () => {
    const { deliver, calls, attempts } = setup(
      [serverError, serverError, serverError, serverError, serverError, ok],
      0,
    );
    const result = await deliver(URL_OK, START + 30_000);
    expect(result).toEqual({ ok: true, attempts: 6, httpStatus: 200, error: null });
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
    expect(gaps).toEqual([250, 500, 1000, 2000, 2000]);
    expect(attempts.map(([n]) => n)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('retries network errors and timeouts, each attempt limited to 5 s', async () => {
    const { deliver, calls } = setup([network, timeout(0), ok], 0);
    const result = await deliver(URL_OK, START + 30_000);
    expect(result.ok).toBe(true);
    expect(calls.map((c) => c.timeoutMs)).toEqual([5000, 5000, 5000]);
    // network error at 0, backoff 250; timeout takes 5 s, backoff 500.
    expect(calls.map((c) => c.at - START)).toEqual([0, 250, 5750]);
  });

  it('gives up when the deadline leaves no time, naming the attempts', async () => {
    const { deliver, calls } = setup([serverError], 0);
    const result = await deliver(URL_OK, START + 3000);
    // 0, 250, 750, 1750; the next backoff (2 s) would cross the deadline.
    expect(calls.map((c) => c.at - START)).toEqual([0, 250, 750, 1750]);
    expect(result).toEqual({
      ok: false,
      attempts: 4,
      httpStatus: 500,
      error: 'Kakao answered HTTP 500 (after 4 attempts)',
    });
  });

  it('shortens the last attempt to the time left before the deadline', async () => {
    const { deliver, calls } = setup([timeout(0)], 0);
    const result = await deliver(URL_OK, START + 7000);
    expect(calls.map((c) => [c.at - START, c.timeoutMs])).toEqual([
      [0, 5000],
      [5250, 1750],
    ]);
    expect(result.error).toBe('no answer within 1750 ms (after 2 attempts)');
  });

  it('does not send at all when the deadline has (nearly) passed', async () => {
    const { deliver, calls, attempts } = setup([ok]);
    const result = await deliver(URL_OK, START + 150);
    expect(result).toEqual({
      ok: false,
      attempts: 0,
      httpStatus: null,
      error: 'the callback deadline passed before sending',
    });
    expect(calls).toEqual([]);
    expect(attempts).toEqual([]);
  });

  it.each([
    ['http://bot-api.kakao.com/v1/callback/abc', 'must use https'],
    ['https://evil.example/callback', 'not in KAKAO_CALLBACK_ALLOWED_HOSTS'],
    ['https://internal.kakao.com/v1/callback/x', 'non-public'],
  ])('refuses %s under the URL policy without contacting it', async (url, reason) => {
    const { deliver, calls } = setup([ok]);
    const result = await deliver(url, START + 30_000);
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(0);
    expect(result.error).toMatch(/^refused: /);
    expect(result.error).toContain(reason);
    expect(calls).toEqual([]);
  });
});
