import { backoffMs, classifyWorksAnswer, parseRetryAfter } from './works-send-policy';

const NOW = Date.UTC(2026, 0, 1);

describe('classifyWorksAnswer', () => {
  it('counts 201 (any 2xx) as sent', () => {
    expect(classifyWorksAnswer(201, null, 1, NOW)).toEqual({ kind: 'sent' });
    expect(classifyWorksAnswer(200, null, 1, NOW)).toEqual({ kind: 'sent' });
  });

  it('asks for a token renewal on 401', () => {
    expect(classifyWorksAnswer(401, null, 1, NOW)).toEqual({ kind: 'unauthorized' });
  });

  it('waits Retry-After on 429, seconds or a date, and backs off without one', () => {
    expect(classifyWorksAnswer(429, '3', 1, NOW)).toEqual({ kind: 'retry', delayMs: 3000 });
    const date = new Date(NOW + 7000).toUTCString();
    expect(classifyWorksAnswer(429, date, 1, NOW)).toEqual({ kind: 'retry', delayMs: 7000 });
    expect(classifyWorksAnswer(429, null, 3, NOW)).toEqual({ kind: 'retry', delayMs: 4000 });
    expect(classifyWorksAnswer(429, 'soon', 1, NOW)).toEqual({ kind: 'retry', delayMs: 1000 });
  });

  it('retries 5xx and no answer with exponential backoff', () => {
    expect(classifyWorksAnswer(500, null, 1, NOW)).toEqual({ kind: 'retry', delayMs: 1000 });
    expect(classifyWorksAnswer(503, '10', 2, NOW)).toEqual({ kind: 'retry', delayMs: 2000 });
    expect(classifyWorksAnswer(null, null, 4, NOW)).toEqual({ kind: 'retry', delayMs: 8000 });
  });

  it('fails any other status at once', () => {
    for (const status of [400, 403, 404, 409, 413, 302]) {
      expect(classifyWorksAnswer(status, null, 1, NOW)).toEqual({ kind: 'failed' });
    }
  });
});

describe('backoff and Retry-After', () => {
  it('doubles up to a minute', () => {
    expect([1, 2, 3, 7, 8, 30].map(backoffMs)).toEqual([1000, 2000, 4000, 60000, 60000, 60000]);
  });

  it('reads nothing from an absent header and never a negative wait', () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter(' ', NOW)).toBeNull();
    expect(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW)).toBe(0);
  });
});
