/** What to do after one answer of the send API. */
export type WorksVerdict =
  { kind: 'sent' } | { kind: 'unauthorized' } | { kind: 'retry'; delayMs: number } | { kind: 'failed' };

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

/** Exponential backoff for the `attempt`-th failure (1 s, 2 s, 4 s … one minute at most). */
export function backoffMs(attempt: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
}

/** `Retry-After` in seconds or as an HTTP date, as milliseconds from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * works-channel.md §3: 2xx sent (201 documented); 401 renew the token (once); 429 wait `Retry-After` (or back
 * off); 5xx and no answer back off and retry; any other status fails at once.
 */
export function classifyWorksAnswer(
  httpStatus: number | null,
  retryAfter: string | null,
  attempt: number,
  nowMs: number,
): WorksVerdict {
  if (httpStatus !== null && httpStatus >= 200 && httpStatus < 300) return { kind: 'sent' };
  if (httpStatus === 401) return { kind: 'unauthorized' };
  if (httpStatus === 429) {
    return { kind: 'retry', delayMs: parseRetryAfter(retryAfter, nowMs) ?? backoffMs(attempt) };
  }
  if (httpStatus === null || httpStatus >= 500) return { kind: 'retry', delayMs: backoffMs(attempt) };
  return { kind: 'failed' };
}
