import { classifyEventApiAnswer } from './kakao-event.policy';

describe('classifyEventApiAnswer (server-mode §6)', () => {
  const answer = (httpStatus: number | null, body: Record<string, unknown> | null = null) => ({
    httpStatus,
    body,
    error:
      httpStatus === null
        ? 'Event API unreachable: ECONNREFUSED'
        : httpStatus >= 400
          ? `HTTP ${httpStatus}`
          : null,
  });

  it('SUCCESS is accepted, with its taskId', () => {
    expect(classifyEventApiAnswer(answer(200, { taskId: 't-1', status: 'SUCCESS' }))).toEqual({
      kind: 'accepted',
      taskId: 't-1',
    });
  });

  it("Kakao's FAIL / ERROR and other 4xx are final", () => {
    expect(classifyEventApiAnswer(answer(200, { status: 'FAIL', message: 'invalid event' }))).toEqual({
      kind: 'failed',
      error: 'Kakao answered FAIL: invalid event',
    });
    expect(classifyEventApiAnswer(answer(200, { status: 'ERROR' })).kind).toBe('failed');
    expect(classifyEventApiAnswer(answer(200, null)).kind).toBe('failed');
    expect(classifyEventApiAnswer(answer(401)).kind).toBe('failed');
    expect(classifyEventApiAnswer(answer(400)).kind).toBe('failed');
  });

  it('no answer, 429 and 5xx are retried', () => {
    expect(classifyEventApiAnswer(answer(null)).kind).toBe('retry');
    expect(classifyEventApiAnswer(answer(429)).kind).toBe('retry');
    expect(classifyEventApiAnswer(answer(500)).kind).toBe('retry');
    expect(classifyEventApiAnswer(answer(503)).kind).toBe('retry');
  });
});
