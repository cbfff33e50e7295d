/**
 * The retry schedule of server-mode §2: after a failed attempt the next comes immediately, then after 5 s, 30 s,
 * 2 min, 10 min, 30 min and 1 h; a failure after the last is final (8 attempts in all). `PUSH_RETRY_SCALE`
 * multiplies it (tests).
 */
export const PUSH_RETRY_SCHEDULE_MS = [0, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000] as const;
export const PUSH_MAX_ATTEMPTS = PUSH_RETRY_SCHEDULE_MS.length + 1;
/** A receiver's `Retry-After` is honoured up to this (one hour, the schedule's longest wait). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** What one attempt came to, before the sync-reply check. */
export type PushVerdict =
  | { kind: 'delivered' }
  /** 410 Gone: the endpoint is disabled, the delivery failed. */
  | { kind: 'gone' }
  | { kind: 'retry'; delayMs: number; reason: string }
  | { kind: 'failed'; reason: string };

/** `Retry-After` in seconds or as an HTTP date, in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/**
 * Judges attempt number `attempt` (1-based): 2xx delivered; 410 gone; 429 and 503 wait `Retry-After` when given
 * (else the schedule); anything else — a 3xx (never followed), other 4xx and 5xx, no answer (network error,
 * timeout) — waits the schedule's next step; when the schedule is used up the delivery failed.
 */
export function classifyPushAnswer(
  httpStatus: number | null,
  retryAfterMs: number | null,
  attempt: number,
  scale: number,
  noAnswerReason = 'no answer',
): PushVerdict {
  if (httpStatus !== null && httpStatus >= 200 && httpStatus < 300) return { kind: 'delivered' };
  if (httpStatus === 410) return { kind: 'gone' };
  const reason =
    httpStatus === null
      ? noAnswerReason
      : httpStatus >= 300 && httpStatus < 400
        ? `redirect (${httpStatus}) not followed`
        : `the receiver answered HTTP ${httpStatus}`;
  if (attempt >= PUSH_MAX_ATTEMPTS) {
    return { kind: 'failed', reason: `${reason}; gave up after ${attempt} attempts` };
  }
  const scheduled = Math.round(PUSH_RETRY_SCHEDULE_MS[attempt - 1] * scale);
  const honoured = (httpStatus === 429 || httpStatus === 503) && retryAfterMs !== null;
  return { kind: 'retry', delayMs: honoured ? retryAfterMs : scheduled, reason };
}
