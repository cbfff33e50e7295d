import { rowCounts } from '../support/fuzz/db';
import { toJsonText } from '../support/fuzz/json-text';
import { webhookOk } from '../support/fuzz/oracles';
import { Expectation } from '../support/fuzz/recorder';
import { EP, fuzzSuite, Job, kakaoPayload, phaseRng } from '../support/fuzz/suite';

/* Fuzz e2e (see test/support/fuzz/suite.ts): what only a raw socket can send (framing, header injection, odd request lines). */

describe('fuzz: raw HTTP/1.1 bytes against every endpoint (e2e)', () => {
  const fuzz = fuzzSuite('raw-sockets');
  const { runJobs, expectPhase } = fuzz;

  it('raw sockets: CR/LF header injection, overlong headers, bad framing, invalid bytes, odd request lines', async () => {
    const { agentA } = fuzz.world;
    const phase = 'raw';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    let created = 0;
    const webhookBody = toJsonText(kakaoPayload({ userKey: `fuzz-raw-${rng.hex(6)}`, utterance: 'raw' }));
    const replyBody = toJsonText({ messageId: rng.uuid(), response: { version: '2.0' } });
    const targets: Array<{
      endpoint: string;
      method: string;
      path: string;
      headers: string[];
      body?: string;
    }> = [
      { endpoint: EP.health, method: 'GET', path: '/health', headers: [] },
      { endpoint: EP.ready, method: 'GET', path: '/health/ready', headers: [] },
      { endpoint: EP.root, method: 'GET', path: '/', headers: [] },
      {
        endpoint: EP.webhook,
        method: 'POST',
        path: '/kakao/webhook',
        headers: ['Content-Type: application/json'],
        body: webhookBody,
      },
      {
        endpoint: EP.create,
        method: 'POST',
        path: '/v1/sessions/create',
        headers: ['Content-Type: application/json'],
        body: '{}',
      },
      { endpoint: EP.status, method: 'GET', path: `/v1/sessions/${rng.hex(64)}/status`, headers: [] },
      {
        endpoint: EP.events,
        method: 'GET',
        path: '/v1/events',
        headers: [`Authorization: Bearer ${rng.hex(64)}`],
      },
      {
        endpoint: EP.reply,
        method: 'POST',
        path: '/openclaw/reply',
        headers: ['Content-Type: application/json', `Authorization: Bearer ${agentA.token}`],
        body: replyBody,
      },
    ];
    const build = (
      requestLine: string,
      headers: Array<string | Buffer>,
      body?: string | Buffer,
      host = true,
    ): Buffer => {
      const parts: Buffer[] = [Buffer.from(`${requestLine}\r\n`, 'latin1')];
      if (host) parts.push(Buffer.from('Host: 127.0.0.1\r\n'));
      parts.push(Buffer.from('Connection: close\r\n'));
      for (const h of headers)
        parts.push(Buffer.isBuffer(h) ? h : Buffer.from(h, 'latin1'), Buffer.from('\r\n'));
      const b = body === undefined ? undefined : Buffer.from(body);
      if (b) parts.push(Buffer.from(`Content-Length: ${b.length}\r\n`));
      parts.push(Buffer.from('\r\n'));
      if (b) parts.push(b);
      return Buffer.concat(parts);
    };
    const push = (endpoint: string, label: string, bytes: Buffer, exp: Expectation = {}) =>
      jobs.push({
        endpoint,
        label,
        raw: bytes,
        expect: exp,
        after: (res) => {
          if (endpoint === EP.create && res.status === 200) created += 1;
        },
      });
    const injections: Array<[string, Array<string | Buffer>]> = [
      ['CRLF in X-Request-Id', ['X-Request-Id: abc\r\nX-Injected: 1']],
      ['CRLF + Set-Cookie in a header', ['X-Forwarded-For: 1.2.3.4\r\nSet-Cookie: a=b']],
      ['bare LF in a header value', ['X-Request-Id: abc\nX-Injected: 1']],
      ['bare CR in a header value', ['X-Request-Id: abc\rX-Injected: 1']],
      ['NUL in a header value', ['X-Request-Id: a\u0000b']],
      ['obs-fold continuation', ['X-Request-Id: abc', ' X-Injected: 1']],
      ['space in a header name', ['X Bad: 1']],
      ['bad char in a header name', ['X-Bad(: 1']],
      ['header without colon', ['X-No-Colon']],
      ['space before colon', ['X-Request-Id : abc']],
      ['17 KiB header (over the limit)', [`X-Big: ${'a'.repeat(17 * 1024)}`]],
      ['12 KiB header (under the limit)', [`X-Big: ${'a'.repeat(12 * 1024)}`]],
      ['1000 small headers', Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${i}`)],
      [
        'invalid UTF-8 in a header value',
        [Buffer.from([0x58, 0x2d, 0x41, 0x3a, 0x20, 0xff, 0xfe, 0xc0, 0xaf])],
      ],
      ['CRLF in Authorization', [`Authorization: Bearer ${agentA.token}\r\nX-Injected: 1`]],
      [
        'Authorization with latin-1 bytes',
        [Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from([0xe9, 0xff, 0x80])])],
      ],
    ];
    for (const target of targets) {
      for (const [label, extra] of injections) {
        // The reply target must stay rejected (unknown id); an injected second Authorization is harmless there too.
        push(
          target.endpoint,
          label,
          build(`${target.method} ${target.path} HTTP/1.1`, [...target.headers, ...extra], target.body),
        );
      }
    }
    const wh = targets[3];
    const whHeaders = wh.headers;
    const framing: Array<[string, string, Buffer, Expectation?]> = [
      [
        EP.webhook,
        'Content-Length and Transfer-Encoding',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: chunked'], webhookBody),
      ],
      [
        EP.webhook,
        'two different Content-Lengths',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Content-Length: 3'], webhookBody),
      ],
      [
        EP.webhook,
        'Content-Length -1',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Content-Length: -1']),
      ],
      [
        EP.webhook,
        'Content-Length abc',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Content-Length: abc']),
      ],
      [
        EP.webhook,
        'Content-Length 0x10',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Content-Length: 0x10']),
      ],
      [
        EP.webhook,
        'chunk size zz',
        Buffer.concat([
          build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: chunked']),
          Buffer.from('zz\r\nabc\r\n0\r\n\r\n'),
        ]),
      ],
      [
        EP.webhook,
        'chunk size 2^68',
        Buffer.concat([
          build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: chunked']),
          Buffer.from('fffffffffffffffff\r\nabc\r\n0\r\n\r\n'),
        ]),
      ],
      [
        EP.webhook,
        'chunk extension junk',
        Buffer.concat([
          build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: chunked']),
          Buffer.from(
            `${Buffer.byteLength(webhookBody).toString(16)};;;=\u00ff\r\n${webhookBody}\r\n0\r\n\r\n`,
            'latin1',
          ),
        ]),
      ],
      [
        EP.webhook,
        'valid chunked body in 3 chunks',
        Buffer.concat([
          build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: chunked']),
          ...[0, 1, 2].map((i) => {
            const part = Buffer.from(webhookBody).subarray(
              Math.floor((i * Buffer.byteLength(webhookBody)) / 3),
              Math.floor(((i + 1) * Buffer.byteLength(webhookBody)) / 3),
            );
            return Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
          }),
          Buffer.from('0\r\n\r\n'),
        ]),
        { allowed: [200], webhook: true, ok: webhookOk },
      ],
      [
        EP.webhook,
        'Transfer-Encoding gzip, chunked',
        Buffer.concat([
          build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: gzip, chunked']),
          Buffer.from('0\r\n\r\n'),
        ]),
      ],
      [
        EP.webhook,
        'Transfer-Encoding identity',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Transfer-Encoding: identity'], webhookBody),
      ],
      [
        EP.webhook,
        'Expect: 100-continue',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Expect: 100-continue'], webhookBody),
        { allowed: [200], webhook: true, ok: webhookOk },
      ],
      [
        EP.webhook,
        'Expect: junk',
        build('POST /kakao/webhook HTTP/1.1', [...whHeaders, 'Expect: junk'], webhookBody),
      ],
      [
        EP.webhook,
        'body with invalid UTF-8 in the utterance',
        build(
          'POST /kakao/webhook HTTP/1.1',
          whHeaders,
          Buffer.concat([
            Buffer.from(webhookBody.replace('"raw"', '"r')),
            Buffer.from([0xff, 0xed, 0xa0, 0x80]),
            Buffer.from(webhookBody.slice(webhookBody.indexOf('"raw"') + 2)),
          ]),
        ),
        { allowed: [200, 400], webhook: true, ok: webhookOk },
      ],
      [EP.health, 'HTTP/1.1 without Host', build('GET /health HTTP/1.1', [], undefined, false)],
      [EP.health, 'HTTP/1.0 without Host', build('GET /health HTTP/1.0', [], undefined, false)],
      [EP.health, 'two Host headers', build('GET /health HTTP/1.1', ['Host: evil.example'])],
      [EP.health, 'Host with a space', build('GET /health HTTP/1.1', ['Host: a b'], undefined, false)],
      [EP.health, 'HTTP/2.0 request line', build('GET /health HTTP/2.0', [])],
      [EP.health, 'HTTP/9.9 request line', build('GET /health HTTP/9.9', [])],
      [EP.health, 'HTTP/1.1x request line', build('GET /health HTTP/1.1x', [])],
      [EP.health, 'HTTP/0.9 request', Buffer.from('GET /health\r\n\r\n')],
      [EP.health, 'lower-case method', build('get /health HTTP/1.1', [])],
      [EP.health, 'unknown method FOO', build('FOO /health HTTP/1.1', [])],
      [EP.health, 'PROPFIND', build('PROPFIND /health HTTP/1.1', [])],
      [EP.health, 'CONNECT to Redis', build('CONNECT 127.0.0.1:6379 HTTP/1.1', []), { closeOk: true }],
      [EP.health, 'OPTIONS *', build('OPTIONS * HTTP/1.1', [])],
      [EP.health, 'absolute-form target', build('GET http://evil.example/health HTTP/1.1', [])],
      [
        EP.status,
        'absolute-form target with traversal',
        build('GET http://127.0.0.1:6379/v1/sessions/..%2f..%2fhealth/status HTTP/1.1', []),
      ],
      [EP.health, 'tab in request line', build('GET\t/health\tHTTP/1.1', [])],
      [EP.health, 'double space in request line', build('GET  /health HTTP/1.1', [])],
      [EP.health, 'NUL in the path', build('GET /health\u0000 HTTP/1.1', [])],
      [EP.health, 'fragment in the target', build('GET /health#frag HTTP/1.1', [])],
      [
        EP.status,
        'invalid UTF-8 bytes in the path',
        Buffer.concat([
          Buffer.from('GET /v1/sessions/'),
          Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
          Buffer.from('/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
        ]),
      ],
      [
        EP.status,
        'raw UTF-8 in the path',
        Buffer.concat([
          Buffer.from('GET /v1/sessions/'),
          Buffer.from('한글/../..', 'utf8'),
          Buffer.from('/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
        ]),
      ],
      [EP.status, '17 KiB path', build(`GET /v1/sessions/${'a'.repeat(17 * 1024)}/status HTTP/1.1`, [])],
      [
        EP.events,
        'pipelined second request',
        Buffer.from(
          `GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${rng.hex(64)}\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        ),
      ],
      [
        EP.reply,
        'Content-Length shorter than the body',
        build('POST /openclaw/reply HTTP/1.1', [...targets[7].headers, 'Content-Length: 5'], replyBody),
      ],
    ];
    for (const [endpoint, label, bytes, exp] of framing) push(endpoint, label, bytes, exp ?? {});
    await runJobs(phase, jobs, 6);
    await expectPhase(phase, before, { sessions: created, sessions_pending: created }, 120);
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
