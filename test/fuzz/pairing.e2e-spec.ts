import { gzipSync } from 'node:zlib';
import { SEGMENT_PIECES } from '../support/fuzz/catalogue';
import { rowCounts } from '../support/fuzz/db';
import { deepArrayText, deepObjectText, randomJson } from '../support/fuzz/json-text';
import { createdOk } from '../support/fuzz/oracles';
import { EP, fuzzSuite, Job, JSON_TYPE, jsonBody, phaseRng } from '../support/fuzz/suite';

/* Fuzz e2e (see test/support/fuzz/suite.ts): POST /v1/sessions/create and GET /v1/sessions/{token}/status. */

describe('fuzz: pairing sessions, create and status (e2e)', () => {
  const fuzz = fuzzSuite('pairing');
  const { runJobs, expectPhase } = fuzz;

  it('the status URL token segment: traversal, encodings, NUL, unicode, very long', async () => {
    const { agentA, agentB, pending } = fuzz.world;
    const phase = 'status';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const real = new Set([pending.sessionToken, agentA.token, agentB.token]);
    const add = (segment: string, label: string, path = `/v1/sessions/${segment}/status`) => {
      let decoded: string | null = null;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        decoded = null;
      }
      const mayBeReal = decoded !== null && real.has(decoded);
      jobs.push({
        endpoint: EP.status,
        label,
        req: { method: 'GET', path },
        expect: {
          allowed: mayBeReal ? [200, 404] : [400, 404, 414, 429, 431],
          codes: ['SESSION_NOT_FOUND', 'NOT_FOUND', 'VALIDATION_ERROR', 'RATE_LIMITED'],
          ok: (_res, json) =>
            ['pending_pairing', 'paired', 'expired', 'disconnected'].includes(
              String((json as { status?: string })?.status),
            )
              ? null
              : 'status 200 without a status',
        },
      });
    };
    for (const piece of SEGMENT_PIECES) add(piece, `piece ${piece}`);
    const t = pending.sessionToken;
    add(t, 'real pending token');
    add(agentA.token, 'real paired token');
    add(t.toUpperCase(), 'upper-case token');
    add(`${t}%00`, 'token + %00');
    add(`%00${t}`, '%00 + token');
    add(`${t}%20`, 'token + %20');
    add(`${t}%2f`, 'token + %2f');
    add(`${t}/..`, 'token/..', `/v1/sessions/${t}/../status`);
    add([...t].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''), 'token fully percent-encoded');
    add(`..%2f..%2f${t}`, '..%2f..%2f + token');
    add(t.slice(1), '63 hex');
    add(`${t}0`, '65 hex');
    add(rng.hex(64), 'unknown 64 hex');
    add('a'.repeat(5000), '5000 chars');
    add('%41'.repeat(3000), '3000 × %41');
    add('a'.repeat(20000), '20000 chars (over the header limit)');
    add('', 'empty segment', '/v1/sessions//status');
    add('x', 'no /status', '/v1/sessions/x');
    add('x', 'extra segment', '/v1/sessions/x/status/extra');
    add(t, 'STATUS in capitals', `/v1/sessions/${t}/STATUS`);
    add('create', 'create as token', '/v1/sessions/create/status');
    add('%2e%2e', 'double-slash prefix', `//v1/sessions/%2e%2e/status`);
    add('a b', 'raw space (raw socket)');
    add('a\tb', 'raw tab (raw socket)');
    add('한글토큰', 'raw UTF-8 (raw socket)');
    add('🦜'.repeat(10), 'raw emoji (raw socket)');
    for (let i = 0; i < 90; i++) {
      const n = rng.int(1, 6);
      const parts = Array.from({ length: n }, () => rng.pick(SEGMENT_PIECES));
      if (rng.chance(0.2)) (parts as string[]).splice(rng.int(0, parts.length), 0, rng.hex(rng.int(1, 70)));
      add(parts.join(''), `random ${i}: ${parts.join('').slice(0, 40)}`);
    }
    await runJobs(phase, jobs);
    await expectPhase(phase, before, {}, 150);
  }, 60_000);

  it('POST /v1/sessions/create: bodies and content types it takes or refuses, sessions counted exactly', async () => {
    const { agentA } = fuzz.world;
    const phase = 'create';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    let created = 0;
    const push = (
      label: string,
      headers: Record<string, string>,
      body: Buffer | string | undefined,
      allowed: number[],
      path = '/v1/sessions/create',
    ) =>
      jobs.push({
        endpoint: EP.create,
        label,
        req: { method: 'POST', path, headers, body },
        expect: {
          allowed: [...allowed, 429],
          ok: createdOk,
          codes: ['VALIDATION_ERROR', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED'],
        },
        after: (res) => {
          if (res.status === 200) created += 1;
        },
      });
    // What the contract says it takes: `{}` or nothing.
    for (let i = 0; i < 3; i++) push('no body', {}, undefined, [200]);
    for (let i = 0; i < 3; i++) push('{}', JSON_TYPE, '{}', [200]);
    push('{} charset=utf-8', { 'Content-Type': 'application/json; charset=utf-8' }, '{}', [200]);
    push(
      'Content-Length 0, text/plain',
      { 'Content-Type': 'text/plain', 'Content-Length': '0' },
      undefined,
      [200],
    );
    push('Authorization of agent A', { ...JSON_TYPE, Authorization: `Bearer ${agentA.token}` }, '{}', [200]);
    // Must be refused.
    push('broken JSON', JSON_TYPE, '{', [400]);
    push('text/plain {}', { 'Content-Type': 'text/plain' }, '{}', [415]);
    push('charset=latin1 {}', { 'Content-Type': 'application/json; charset=latin1' }, '{}', [415]);
    push('multipart', { 'Content-Type': 'multipart/form-data; boundary=x' }, '--x\r\n\r\n{}\r\n--x--', [415]);
    push('form', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=1', [415]);
    push('300 KiB', JSON_TYPE, jsonBody({ pad: 'x'.repeat(300 * 1024) }), [413]);
    push(
      'gzip bomb',
      { ...JSON_TYPE, 'Content-Encoding': 'gzip' },
      gzipSync(Buffer.from(`{"a":"${'0'.repeat(4 * 1024 * 1024)}"}`)),
      [413],
    );
    push('Content-Encoding xz', { ...JSON_TYPE, 'Content-Encoding': 'xz' }, '{}', [415]);
    for (let i = 0; i < 5; i++)
      push(
        `random bytes ${i}`,
        JSON_TYPE,
        Buffer.concat([Buffer.from('{'), rng.bytes(rng.int(1, 500))]),
        [400],
      );
    // Either way, as long as rows match the answers; a body or query never binds the session to an account.
    const either = [200, 400, 415];
    for (const b of [
      '[]',
      'null',
      '"x"',
      '0',
      '-0',
      '1e309',
      '{"a":1}',
      `{"accountId":"${agentA.accountId}"}`,
      `{"account_id":"${agentA.accountId}","status":"paired"}`,
      '{"__proto__":{"accountId":"x"}}',
      '{"a":1,"a":2}',
      deepArrayText(10_000),
      deepObjectText(10_000),
      jsonBody({ pad: 'x'.repeat(200 * 1024) }).toString(),
    ]) {
      push(`body ${b.slice(0, 40)}`, JSON_TYPE, b, either);
    }
    push('no Content-Type, {}', {}, '{}', either);
    push(
      'invalid UTF-8 in a key',
      JSON_TYPE,
      Buffer.concat([Buffer.from('{"'), Buffer.from([0xff]), Buffer.from('":1}')]),
      either,
    );
    push(`?accountId=A`, JSON_TYPE, '{}', either, `/v1/sessions/create?accountId=${agentA.accountId}`);
    push(
      `?account_id=A&status=paired`,
      JSON_TYPE,
      '{}',
      either,
      `/v1/sessions/create?account_id=${agentA.accountId}&status=paired`,
    );
    for (let i = 0; i < 25; i++) push(`random JSON ${i}`, JSON_TYPE, jsonBody(randomJson(rng)), either);
    await runJobs(phase, jobs, 4);
    await expectPhase(phase, before, { sessions: created, sessions_pending: created }, 60);
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
