import { ANY_ERROR_CODE, errorBodyProblems, expectErrorBody } from './error-body';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const body = { statusCode: 404, code: 'MESSAGE_NOT_FOUND', message: 'No message with this id.' };

describe('expectErrorBody', () => {
  it('accepts the uniform body in every answer shape the suites use, and returns it', () => {
    expect(expectErrorBody({ status: 404, headers: JSON_HEADERS, body }, 404, 'MESSAGE_NOT_FOUND')).toEqual(
      body,
    );
    const text = JSON.stringify(body);
    expect(
      errorBodyProblems({ status: 404, headers: JSON_HEADERS, body: text }, 404, 'MESSAGE_NOT_FOUND'),
    ).toEqual([]);
    expect(
      errorBodyProblems(
        { status: 404, headers: JSON_HEADERS, body: Buffer.from(text), text },
        404,
        ANY_ERROR_CODE,
      ),
    ).toEqual([]);
  });

  it.each<[string, Parameters<typeof errorBodyProblems>[0], RegExp]>([
    ['another status', { status: 400, headers: JSON_HEADERS, body }, /HTTP status 400/],
    ['a text answer', { status: 404, headers: { 'content-type': 'text/html' }, body }, /content-type/],
    ['not JSON', { status: 404, headers: JSON_HEADERS, text: '<html>' }, /not JSON/],
    [
      'statusCode ≠ status',
      { status: 404, headers: JSON_HEADERS, body: { ...body, statusCode: 400 } },
      /statusCode/,
    ],
    ['an empty message', { status: 404, headers: JSON_HEADERS, body: { ...body, message: ' ' } }, /message/],
    ['an extra key', { status: 404, headers: JSON_HEADERS, body: { ...body, requestId: 'x' } }, /extra keys/],
    ['a stack', { status: 404, headers: JSON_HEADERS, body: { ...body, stack: 'x' } }, /leaks internals/],
    [
      'SQL in the message',
      {
        status: 404,
        headers: JSON_HEADERS,
        body: { ...body, message: 'relation "accounts" does not exist' },
      },
      /leaks internals/,
    ],
    [
      'unexpected details',
      { status: 404, headers: JSON_HEADERS, body: { ...body, details: [] } },
      /extra keys/,
    ],
  ])('finds %s', (_name, answer, problem) => {
    expect(errorBodyProblems(answer, 404, 'MESSAGE_NOT_FOUND').join('; ')).toMatch(problem);
  });

  it('checks the code, details, message, Retry-After and other headers when asked', () => {
    const answer = {
      status: 429,
      headers: { ...JSON_HEADERS, 'Retry-After': '0', 'x-ratelimit-remaining': '1' },
      body: { statusCode: 429, code: 'RATE_LIMITED', message: 'Too many.', details: [{ field: 1 }] },
    };
    expect(
      errorBodyProblems(answer, 429, 'TOO_MANY_STREAMS', {
        details: 'allowed',
        message: 'slow down',
        retryAfter: true,
        headers: { 'x-ratelimit-remaining': '0' },
      }),
    ).toEqual([
      expect.stringMatching(/details is not an array of \{message, field\?\}/),
      'error code RATE_LIMITED ≠ TOO_MANY_STREAMS',
      expect.stringMatching(/does not match slow down/),
      expect.stringMatching(/^Retry-After 0/),
      expect.stringMatching(/^header x-ratelimit-remaining: 1/),
    ]);
    const noDetails = { ...answer, body: { statusCode: 429, code: 'RATE_LIMITED', message: 'Too many.' } };
    expect(errorBodyProblems(noDetails, 429, 'RATE_LIMITED', { details: 'required' })).toEqual([
      'error body has no details',
    ]);
  });
});
