import {
  classifyPushAnswer,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  PUSH_MAX_ATTEMPTS,
  PUSH_RETRY_SCHEDULE_MS,
} from './push-policy';

describe('push retry policy', () => {
  it('counts 2xx as delivered and 410 as gone, whatever the attempt', () => {
    expect(classifyPushAnswer(200, null, 1, 1)).toEqual({ kind: 'delivered' });
    expect(classifyPushAnswer(204, null, 8, 1)).toEqual({ kind: 'delivered' });
    expect(classifyPushAnswer(410, null, 1, 1)).toEqual({ kind: 'gone' });
  });

  it('retries immediately, then after 5 s, 30 s, 2 min, 10 min, 30 min and 1 h, then fails', () => {
    const delays: number[] = [];
    for (let attempt = 1; attempt < PUSH_MAX_ATTEMPTS; attempt++) {
      const verdict = classifyPushAnswer(500, null, attempt, 1);
      if (verdict.kind !== 'retry') throw new Error(`attempt ${attempt}: ${verdict.kind}`);
      delays.push(verdict.delayMs);
    }
    expect(delays).toEqual([0, 5000, 30000, 120000, 600000, 1800000, 3600000]);
    expect(classifyPushAnswer(500, null, PUSH_MAX_ATTEMPTS, 1)).toEqual({
      kind: 'failed',
      reason: 'the receiver answered HTTP 500; gave up after 8 attempts',
    });
  });

  it('treats redirects, other 4xx, timeouts and network errors like 5xx', () => {
    expect(classifyPushAnswer(302, null, 1, 1)).toMatchObject({
      kind: 'retry',
      reason: 'redirect (302) not followed',
    });
    expect(classifyPushAnswer(400, null, 2, 1)).toMatchObject({ kind: 'retry', delayMs: 5000 });
    expect(classifyPushAnswer(null, null, 3, 1, 'no answer within 10000 ms')).toEqual({
      kind: 'retry',
      delayMs: 30000,
      reason: 'no answer within 10000 ms',
    });
  });

  it('honours Retry-After on 429 and 503 only', () => {
    expect(classifyPushAnswer(429, 7000, 1, 1)).toMatchObject({ kind: 'retry', delayMs: 7000 });
    expect(classifyPushAnswer(503, 2000, 2, 1)).toMatchObject({ kind: 'retry', delayMs: 2000 });
    expect(classifyPushAnswer(500, 7000, 2, 1)).toMatchObject({ kind: 'retry', delayMs: 5000 });
    expect(classifyPushAnswer(429, null, 2, 1)).toMatchObject({ kind: 'retry', delayMs: 5000 });
  });

  it('scales the schedule (tests) but not Retry-After', () => {
    expect(classifyPushAnswer(500, null, 7, 0.001)).toMatchObject({ delayMs: 3600 });
    expect(classifyPushAnswer(429, 1000, 7, 0.001)).toMatchObject({ delayMs: 1000 });
    expect(PUSH_RETRY_SCHEDULE_MS).toHaveLength(7);
  });

  it('reads Retry-After as seconds or a date, capped at an hour', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['1'], now)).toBe(1000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:10 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
