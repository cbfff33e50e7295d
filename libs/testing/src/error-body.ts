import type { ErrorBody } from '@app/core';

/**
 * What a test got back, in any of the shapes the suites use: a supertest response (`body` parsed, `text`), an
 * `SseClient` or a `RawAnswer` (`body` the text or the parsed JSON), a fuzz response (`body` bytes, `text`), or a
 * fetch `Response` through {@link expectErrorResponse}.
 */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body?: unknown;
  text?: string;
}

export interface ErrorBodyExpectations {
  /**
   * The optional `details` array: `'absent'` (the default: most errors have none), `'allowed'`, or `'required'`
   * (a validation error that lists its problems). When present it must be an array of `{message, field?}`.
   */
  details?: 'absent' | 'allowed' | 'required';
  /** Text the message must contain, or a pattern it must match (it is always a non-empty string). */
  message?: string | RegExp;
  /** `Retry-After`: `true` for a whole number of seconds ≥ 1, or the exact number of seconds. */
  retryAfter?: true | number;
  /** Further response headers (lower-case names) and their exact value or a pattern. */
  headers?: Record<string, string | RegExp>;
}

const BODY_KEYS = new Set(['statusCode', 'code', 'message', 'details']);
const CODE = /^[A-Z][A-Z0-9_]*$/;
/** For `expectErrorBody(res, status, ANY_ERROR_CODE)` where the code is not the point (it must still be a CODE). */
export const ANY_ERROR_CODE = CODE;

/**
 * What an answer must never carry (error or not): a stack trace, a TypeORM/PostgreSQL error, a file path.
 * Shared with the fuzz recorder, which checks every answer with it.
 */
export const LEAK_PATTERN =
  /QueryFailedError|node_modules|\n\s+at [\w.<>]+ \(|"stack"|duplicate key value|violates (?:unique|foreign key|not-null|check) constraint|syntax error at or near|relation "[^"]*" does not exist/;

/**
 * Why `json` is not the uniform error body of contract §0 for HTTP `status` — `{statusCode, code, message,
 * details?}` and nothing else — one reason per problem; empty when it is one.
 */
export function errorBodyShapeProblems(
  status: number,
  json: unknown,
  details: ErrorBodyExpectations['details'] = 'absent',
): string[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return ['error body is not a JSON object'];
  const body = json as Record<string, unknown>;
  const problems: string[] = [];
  const extra = Object.keys(body).filter(
    (k) => !BODY_KEYS.has(k) || (k === 'details' && details === 'absent'),
  );
  if (extra.length > 0) problems.push(`error body has extra keys ${extra.join(',')}`);
  if (body.statusCode !== status)
    problems.push(`error body statusCode ${String(body.statusCode)} ≠ HTTP ${status}`);
  if (typeof body.code !== 'string' || !CODE.test(body.code))
    problems.push(`error body code ${JSON.stringify(body.code)} is not a CODE`);
  if (typeof body.message !== 'string' || body.message.trim().length === 0)
    problems.push('error body message is not a non-empty string');
  if (body.details === undefined) {
    if (details === 'required') problems.push('error body has no details');
  } else if (
    !Array.isArray(body.details) ||
    !body.details.every(
      (d: unknown) =>
        d !== null &&
        typeof d === 'object' &&
        typeof (d as { message?: unknown }).message === 'string' &&
        ['string', 'undefined'].includes(typeof (d as { field?: unknown }).field),
    )
  ) {
    problems.push('error body details is not an array of {message, field?}');
  }
  return problems;
}

function headerOf(answer: HttpAnswer, name: string): string | undefined {
  const key = Object.keys(answer.headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : answer.headers[key];
  return value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);
}

/** Every string inside a parsed JSON value (keys included), as a client reads it. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...stringsIn(v)]);
}

/** The raw text of an answer and its parsed JSON (undefined when it is not JSON). */
function textAndJson(answer: HttpAnswer): { text: string; json: unknown } {
  const { body } = answer;
  if (typeof answer.text !== 'string' && body !== null && typeof body === 'object' && !Buffer.isBuffer(body))
    return { text: JSON.stringify(body) ?? '', json: body };
  const text =
    typeof answer.text === 'string'
      ? answer.text
      : Buffer.isBuffer(body)
        ? body.toString('utf8')
        : String(body ?? '');
  try {
    return { text, json: JSON.parse(text) as unknown };
  } catch {
    return { text, json: undefined };
  }
}

/**
 * Every way `answer` falls short of an error answer with `status` and `code` (a pattern when the code varies):
 * the HTTP status, a JSON content type, the uniform body of contract §0 (see {@link errorBodyShapeProblems}),
 * nothing leaked (stack, SQL, paths), and whatever `expectations` add. Empty when it is right.
 */
export function errorBodyProblems(
  answer: HttpAnswer,
  status: number,
  code: string | RegExp,
  expectations: ErrorBodyExpectations = {},
): string[] {
  const problems: string[] = [];
  if (answer.status !== status) problems.push(`HTTP status ${answer.status} ≠ ${status}`);
  const type = headerOf(answer, 'content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) problems.push(`content-type ${JSON.stringify(type)} is not JSON`);
  const { text, json } = textAndJson(answer);
  if (json === undefined) problems.push('the body is not JSON');
  else {
    problems.push(...errorBodyShapeProblems(status, json, expectations.details));
    const body = json as Partial<ErrorBody>;
    if (typeof code === 'string' ? body.code !== code : !code.test(String(body.code)))
      problems.push(`error code ${String(body.code)} ≠ ${String(code)}`);
    const { message } = expectations;
    if (message !== undefined && typeof body.message === 'string') {
      const fits = typeof message === 'string' ? body.message.includes(message) : message.test(body.message);
      if (!fits) problems.push(`message ${JSON.stringify(body.message)} does not match ${String(message)}`);
    }
  }
  if ([text, ...stringsIn(json)].some((t) => LEAK_PATTERN.test(t)))
    problems.push('the answer leaks internals (stack trace, SQL error or file path)');
  if (expectations.retryAfter !== undefined) {
    const value = headerOf(answer, 'retry-after');
    const fits =
      expectations.retryAfter === true
        ? /^[1-9]\d*$/.test(value ?? '')
        : value === String(expectations.retryAfter);
    if (!fits)
      problems.push(
        `Retry-After ${String(value)} is not ${expectations.retryAfter === true ? 'a whole number of seconds ≥ 1' : expectations.retryAfter}`,
      );
  }
  for (const [name, want] of Object.entries(expectations.headers ?? {})) {
    const value = headerOf(answer, name.toLowerCase());
    const fits = typeof want === 'string' ? value === want : value !== undefined && want.test(value);
    if (!fits) problems.push(`header ${name}: ${String(value)} is not ${String(want)}`);
  }
  return problems;
}

/**
 * Asserts that `answer` is an error answer with `status` and `code` and the uniform error body (see
 * {@link errorBodyProblems}); every problem is reported at once. Returns the body for further checks.
 */
export function expectErrorBody(
  answer: HttpAnswer,
  status: number,
  code: string | RegExp,
  expectations: ErrorBodyExpectations = {},
): ErrorBody {
  const problems = errorBodyProblems(answer, status, code, expectations);
  const { text, json } = textAndJson(answer);
  if (problems.length > 0) problems.push(`(the answer: ${answer.status} ${text.slice(0, 300)})`);
  expect(problems).toEqual([]);
  return json as ErrorBody;
}

/** {@link expectErrorBody} for a fetch `Response` (reads its body). */
export async function expectErrorResponse(
  res: Response,
  status: number,
  code: string | RegExp,
  expectations: ErrorBodyExpectations = {},
): Promise<ErrorBody> {
  const text = await res.text();
  return expectErrorBody(
    { status: res.status, headers: Object.fromEntries(res.headers.entries()), text },
    status,
    code,
    expectations,
  );
}
