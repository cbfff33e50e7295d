import { errorBodyShapeProblems, LEAK_PATTERN } from '@app/testing';
import type { FuzzResponse } from './http-client';

export interface Expectation {
  /** Statuses this input may get; anything else is a finding. Default: any status below 500. */
  allowed?: number[];
  /** Error codes allowed for non-2xx JSON answers. */
  codes?: string[];
  /** The Kakao webhook: a 200 must be a SkillResponse v2.0, and never the "temporarily unavailable" text. */
  webhook?: boolean;
  /** Extra check of a successful answer; returns a problem or null. */
  ok?: (res: FuzzResponse, json: unknown) => string | null;
  /** The connection may close without an answer (CONNECT and similar). */
  closeOk?: boolean;
}

export interface Violation {
  phase: string;
  endpoint: string;
  label: string;
  problem: string;
  status: number;
  body: string;
}

export interface Exchange {
  phase: string;
  endpoint: string;
  label: string;
  res: FuzzResponse;
  expect?: Expectation;
}

/** Answers Node's HTTP parser writes itself before the app sees the request (no JSON body, no request id). */
const NODE_LEVEL_STATUSES = new Set([400, 413, 414, 417, 431, 501, 505]);

function describeBody(res: FuzzResponse): string {
  const text = res.text.length > 300 ? `${res.text.slice(0, 300)}… (${res.text.length} chars)` : res.text;
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

export function parseJson(res: FuzzResponse): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(res.text) };
  } catch {
    return { ok: false };
  }
}

function isJson(res: FuzzResponse): boolean {
  return String(res.headers['content-type'] ?? '').includes('json');
}

/**
 * Collects every exchange of the fuzz run: tallies per phase/endpoint/status, and every finding (a 5xx, a hang,
 * a non-uniform error body, an unexpected status…) with the input that caused it.
 */
export class Recorder {
  readonly violations: Violation[] = [];
  readonly tally = new Map<string, Map<string, number>>();
  total = 0;

  count(phase: string): number {
    let n = 0;
    for (const v of this.tally.get(phase)?.values() ?? []) n += v;
    return n;
  }

  statusCount(phase: string, endpoint: string, status: number): number {
    return this.tally.get(phase)?.get(`${endpoint} → ${status}`) ?? 0;
  }

  private bump(phase: string, key: string): void {
    const byKey = this.tally.get(phase) ?? new Map<string, number>();
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
    this.tally.set(phase, byKey);
  }

  /** Checks one exchange; returns its parsed JSON body when there is one. */
  check(ex: Exchange): unknown {
    const { res, expect = {} } = ex;
    this.total += 1;
    this.bump(ex.phase, `${ex.endpoint} → ${res.timedOut ? 'timeout' : res.status}`);
    const problems: string[] = [];
    const json = isJson(res) ? parseJson(res) : ({ ok: false } as const);
    if (res.timedOut) problems.push('no answer in time (hang)');
    else if (res.status === 0) {
      if (!expect.closeOk)
        problems.push(`connection closed without a response${res.error ? ` (${res.error})` : ''}`);
    } else if (res.status >= 500 && !(ex.endpoint === 'GET /health/ready' && res.status === 503)) {
      problems.push(`server error ${res.status}`);
    }
    const serverError = problems.length > 0;
    if (!serverError && res.status > 0 && expect.allowed && !expect.allowed.includes(res.status)) {
      problems.push(`status ${res.status} not in [${expect.allowed.join(',')}]`);
    }
    const appAnswered = res.headers['x-request-id'] !== undefined;
    if (res.status >= 300 && res.status < 400) {
      if (!(ex.endpoint.endsWith(' /') && res.status === 302 && res.headers.location === '/dashboard/')) {
        problems.push(`unexpected redirect ${res.status} to ${String(res.headers.location)}`);
      }
    } else if (res.status >= 400 && !ex.endpoint.startsWith('HEAD ')) {
      if (isJson(res)) {
        if (!json.ok) problems.push('error body is not valid JSON');
        else {
          // The same uniform body `expectErrorBody` asserts (any error may carry details here).
          const shape = errorBodyShapeProblems(res.status, json.value, 'allowed');
          problems.push(...shape);
          const code = (json.value as { code?: string }).code;
          if (shape.length === 0 && !serverError && expect.codes && code && !expect.codes.includes(code)) {
            problems.push(`error code ${code} not in [${expect.codes.join(',')}]`);
          }
        }
      } else if (appAnswered || !NODE_LEVEL_STATUSES.has(res.status)) {
        problems.push(`non-JSON error answer (content-type ${String(res.headers['content-type'])})`);
      }
    } else if (res.status >= 200 && res.status < 300) {
      if (expect.webhook) {
        const body = json.ok ? (json.value as Record<string, unknown>) : null;
        if (!body || body.version !== '2.0') problems.push('webhook 200 is not a SkillResponse v2.0');
      }
      if (expect.ok) {
        const p = expect.ok(res, json.ok ? json.value : undefined);
        if (p) problems.push(p);
      }
    }
    if (LEAK_PATTERN.test(res.text))
      problems.push('answer leaks internals (stack trace, SQL error or file path)');
    const names = Object.keys(res.headers).map((h) => h.toLowerCase());
    if (names.includes('x-injected')) problems.push('an injected header came back in the response');
    if (names.includes('set-cookie')) problems.push('unexpected Set-Cookie in the response');
    for (const problem of problems) {
      this.violations.push({
        phase: ex.phase,
        endpoint: ex.endpoint,
        label: ex.label,
        problem,
        status: res.status,
        body: describeBody(res),
      });
    }
    return json.ok ? json.value : undefined;
  }

  violationsOf(phase: string): Violation[] {
    return this.violations.filter((v) => v.phase === phase);
  }

  /** Findings grouped by endpoint and problem, a few example inputs each: readable in a failed assertion. */
  summarize(violations: Violation[], examples = 4): string[] {
    const groups = new Map<string, Violation[]>();
    for (const v of violations) {
      const key = `${v.endpoint} | ${v.problem}`;
      groups.set(key, [...(groups.get(key) ?? []), v]);
    }
    return [...groups.entries()].map(
      ([key, list]) =>
        `${key} ×${list.length}: ` +
        list
          .slice(0, examples)
          .map((v) => `[${v.label}] → ${v.status} ${v.body.slice(0, 160)}`)
          .join(' ; '),
    );
  }

  table(): string {
    const lines: string[] = [];
    for (const [phase, byKey] of this.tally) {
      lines.push(`${phase}: ${this.count(phase)} requests`);
      for (const [key, n] of [...byKey.entries()].sort()) lines.push(`    ${key}: ${n}`);
    }
    return lines.join('\n');
  }
}
