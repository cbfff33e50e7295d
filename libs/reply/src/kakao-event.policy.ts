import type { EventApiAnswer } from './kakao-event.client';

/** What one Event API answer means: accepted by Kakao, worth another try, or refused for good. */
export type EventApiVerdict =
  | { kind: 'accepted'; taskId: string | null }
  | { kind: 'retry'; error: string }
  | { kind: 'failed'; error: string };

/**
 * 2xx with `status: "SUCCESS"` is accepted (Kakao will run the event block); 2xx with `FAIL`/`ERROR` (or no
 * status) and any other 4xx are refusals (wrong key, unknown bot or event, no wallet: trying again changes
 * nothing); no answer, 429 and 5xx are transient.
 */
export function classifyEventApiAnswer(answer: EventApiAnswer): EventApiVerdict {
  const status = answer.httpStatus;
  if (status === null) return { kind: 'retry', error: answer.error ?? 'no answer' };
  if (status === 429 || status >= 500) return { kind: 'retry', error: answer.error ?? `HTTP ${status}` };
  if (status >= 200 && status < 300) {
    const body = answer.body;
    if (body?.status === 'SUCCESS') {
      return { kind: 'accepted', taskId: typeof body.taskId === 'string' ? body.taskId : null };
    }
    const said = typeof body?.message === 'string' ? `: ${body.message}` : '';
    return { kind: 'failed', error: `Kakao answered ${String(body?.status ?? 'no status')}${said}` };
  }
  return { kind: 'failed', error: answer.error ?? `HTTP ${status}` };
}
