import { gzipSync } from 'node:zlib';
import type { SkillResponse } from '@app/core';
import { loadFixture, sql } from '@app/testing';
import { bogusAuthorizations } from '../support/fuzz/catalogue';
import { rowCounts } from '../support/fuzz/db';
import {
  allPaths,
  DELETE,
  deepArrayText,
  deepObjectText,
  entries,
  hostileValues,
  pathLabel,
  randomJson,
  raw,
  toJsonText,
  withAt,
} from '../support/fuzz/json-text';
import { replyAcceptedOk, replyVerdict, storableText } from '../support/fuzz/oracles';
import { Expectation } from '../support/fuzz/recorder';
import { EP, fuzzSuite, Job, JSON_TYPE, jsonBody, phaseRng, SETTLE_MS } from '../support/fuzz/suite';

/* Fuzz e2e (see test/support/fuzz/suite.ts): replies that must be refused, and wrong types in real replies. */

describe('fuzz: agent replies POST /openclaw/reply (e2e)', () => {
  const fuzz = fuzzSuite('reply');
  const { runJobs, expectPhase } = fuzz;

  it('agent replies that must all be refused: bad auth, malformed bodies, bad ids, foreign ids (no rows)', async () => {
    const { agentA, agentB, pending, messagesA, messagesB } = fuzz.world;
    const phase = 'reply-rejected';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const t = agentA.token;
    const valid = (messageId: unknown) => ({
      messageId,
      response: { version: '2.0', template: { outputs: [{ simpleText: { text: 'hi' } }] } },
    });
    const push = (
      label: string,
      headers: Record<string, string>,
      body: Buffer | string | undefined,
      exp: Expectation,
      path = '/openclaw/reply',
    ) => jobs.push({ endpoint: EP.reply, label, req: { method: 'POST', path, headers, body }, expect: exp });
    const auth = { ...JSON_TYPE, Authorization: `Bearer ${t}` };
    const unauthorized: Expectation = {
      allowed: [401],
      codes: ['TOKEN_MISSING', 'INVALID_TOKEN', 'SESSION_NOT_PAIRED'],
    };
    const invalid: Expectation = { allowed: [400], codes: ['VALIDATION_ERROR'] };
    const notFound: Expectation = { allowed: [404], codes: ['MESSAGE_NOT_FOUND'] };
    // Authentication.
    push('no Authorization', JSON_TYPE, jsonBody(valid(messagesA[0])), unauthorized);
    for (const a of bogusAuthorizations(t, rng)) {
      push(
        `Authorization: ${a.label}`,
        { ...JSON_TYPE, Authorization: a.value },
        jsonBody(valid(messagesA[0])),
        unauthorized,
      );
    }
    push(
      'valid token in ?token= (SSE only)',
      JSON_TYPE,
      jsonBody(valid(messagesA[0])),
      unauthorized,
      `/openclaw/reply?token=${t}`,
    );
    push(
      'pending session token',
      { ...JSON_TYPE, Authorization: `Bearer ${pending.sessionToken}` },
      jsonBody(valid(messagesA[0])),
      { allowed: [401], codes: ['SESSION_NOT_PAIRED'] },
    );
    // Tenant isolation: another account's message is "not found", both ways.
    for (const id of messagesB) push(`A answers B's message`, auth, jsonBody(valid(id)), notFound);
    for (const id of messagesA.slice(0, 3)) {
      push(
        `B answers A's message`,
        { ...JSON_TYPE, Authorization: `Bearer ${agentB.token}` },
        jsonBody(valid(id)),
        notFound,
      );
    }
    // Malformed bodies.
    for (const b of [
      '',
      ' ',
      '{',
      '[]',
      'null',
      '"x"',
      '0',
      'true',
      '{}',
      '\ufeff{}',
      '{"messageId":',
      `${toJsonText(valid(rng.uuid()))}x`,
    ]) {
      push(`body ${JSON.stringify(b.slice(0, 20))}`, auth, b, {
        allowed: [400],
        codes: ['VALIDATION_ERROR'],
      });
    }
    for (let i = 0; i < 6; i++)
      push(`random bytes ${i}`, auth, rng.bytes(rng.int(1, 3000)), {
        allowed: [400],
        codes: ['VALIDATION_ERROR'],
      });
    for (let i = 0; i < 8; i++) push(`random JSON ${i}`, auth, jsonBody(randomJson(rng)), invalid);
    const unknownBody = toJsonText(valid(rng.uuid()));
    push(
      'invalid UTF-8 inside the text',
      auth,
      Buffer.concat([
        Buffer.from(unknownBody.replace('"hi"', '"h')),
        Buffer.from([0xff, 0xc0, 0xaf]),
        Buffer.from('i"}}]}}'),
      ]),
      { allowed: [400, 404] },
    );
    push('[ × 10,000', auth, deepArrayText(10_000), invalid);
    push('[ × 100,000', auth, deepArrayText(100_000), invalid);
    push('{"a": × 10,000', auth, deepObjectText(10_000), invalid);
    push(
      'response nested 10,000 deep',
      auth,
      unknownBody.replace('"template"', `"deep":${deepObjectText(10_000)},"template"`),
      { allowed: [400, 404] },
    );
    push(
      'response nested 1,000 deep',
      auth,
      unknownBody.replace('"template"', `"deep":${deepObjectText(1_000)},"template"`),
      { allowed: [400, 404] },
    );
    push('body of 300 KiB', auth, jsonBody({ ...valid(rng.uuid()), pad: 'x'.repeat(300 * 1024) }), {
      allowed: [413],
    });
    push(
      'gzip bomb',
      { ...auth, 'Content-Encoding': 'gzip' },
      gzipSync(Buffer.from(`{"a":"${'0'.repeat(4 * 1024 * 1024)}"}`)),
      { allowed: [413] },
    );
    const types = [
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'image/png',
      '*/*',
      'x'.repeat(500),
    ];
    for (const type of types) {
      push(
        `Content-Type ${type.slice(0, 40)}`,
        { 'Content-Type': type, Authorization: `Bearer ${t}` },
        jsonBody(valid(messagesA[0])),
        { allowed: [400, 415], codes: ['UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_ERROR'] },
      );
    }
    push('no Content-Type, unknown id', { Authorization: `Bearer ${t}` }, jsonBody(valid(rng.uuid())), {
      allowed: [404, 415],
    });
    // messageId: never a UUID → 400; UUID-shaped but not ours → 404.
    const id0 = messagesA[0];
    const nonUuids: unknown[] = [
      '',
      ' ',
      'abc',
      id0.replace(/-/g, ''),
      `{${id0}}`,
      `${id0}x`,
      `x${id0}`,
      ` ${id0} `,
      `${id0}\u0000`,
      `urn:uuid:${id0}`,
      'z'.repeat(36),
      "' OR 1=1 --",
      '1; DROP TABLE inbound_messages',
      '../../',
      1,
      raw('-0'),
      raw('1e309'),
      raw('123456789012345678901234567890'),
      null,
      true,
      [],
      [id0],
      {},
      entries(['$ne', null]),
      entries(['__proto__', { id: id0 }]),
      'x'.repeat(10240),
      id0.replace(/[0-9]/g, '\u0663'),
      id0.replace(/-/g, '\u2010'),
      raw(`"${id0.slice(0, 8)}\\ud800${id0.slice(9)}"`),
    ];
    for (const m of nonUuids)
      push(`messageId ${toJsonText(m).slice(0, 40)}`, auth, jsonBody(valid(m)), invalid);
    for (const m of [
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      rng.uuid(),
      rng.uuid(),
      rng.uuid(),
    ]) {
      push(`messageId unknown ${m}`, auth, jsonBody(valid(m)), notFound);
    }
    push('messageId missing', auth, jsonBody({ response: valid('').response }), invalid);
    // The last of duplicate keys wins; prototype keys never supply a field.
    push(
      'messageId twice, last not a UUID',
      auth,
      `{"messageId":"${id0}","messageId":"junk","response":{"version":"2.0"}}`,
      invalid,
    );
    push(
      'messageId only under __proto__',
      auth,
      `{"__proto__":{"messageId":"${id0}"},"response":{"version":"2.0"}}`,
      invalid,
    );
    push(
      'response only under __proto__',
      auth,
      `{"messageId":"${id0}","__proto__":{"response":{"version":"2.0"}}}`,
      invalid,
    );
    push(
      'version only under response.__proto__',
      auth,
      `{"messageId":"${id0}","response":{"__proto__":{"version":"2.0"}}}`,
      invalid,
    );
    push(
      'version twice, last 1.0',
      auth,
      `{"messageId":"${id0}","response":{"version":"2.0","version":"1.0"}}`,
      invalid,
    );
    // response: must be an object with version "2.0".
    const badResponses: unknown[] = [
      null,
      'x',
      5,
      raw('1e309'),
      [],
      [{ version: '2.0' }],
      {},
      { version: 2 },
      { version: raw('2.0') },
      { version: '2' },
      { version: '2.0 ' },
      { version: ' 2.0' },
      { version: '２.０' },
      { version: ['2.0'] },
      { version: {} },
      { version: null },
      { Version: '2.0' },
      { 'version\u0000': '2.0' },
      { version: raw('"2.0\\u0000"') },
      { version: raw('"2.\\ud8000"') },
      { template: { outputs: [] } },
    ];
    for (const r of badResponses)
      push(
        `response ${toJsonText(r).slice(0, 40)}`,
        auth,
        jsonBody({ messageId: id0, response: r }),
        invalid,
      );
    push('extra top-level key', auth, jsonBody({ ...valid(id0), extra: 1 }), invalid);
    await runJobs(phase, jobs);
    const foreign = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbound_messages WHERE inbound_message_id = ANY($1::uuid[])',
      [messagesB],
    );
    expect(foreign[0].n).toBe(0);
    await expectPhase(phase, before, {}, 150);
  }, 60_000);

  it('agent replies with a real token and real message ids: wrong types at every field, rows counted exactly', async () => {
    const { agentA, messagesA } = fuzz.world;
    const phase = 'reply-types';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const [{ n: repliesBefore }] = await sql<{ n: number }>(
      'SELECT coalesce(sum(jsonb_array_length(replies)), 0)::int AS n FROM outbound_messages WHERE account_id = $1',
      [agentA.accountId],
    );
    const hadOutbound = new Set(
      (
        await sql<{ id: string }>(
          'SELECT inbound_message_id AS id FROM outbound_messages WHERE account_id = $1',
          [agentA.accountId],
        )
      ).map((r) => r.id),
    );
    const jobs: Job[] = [];
    const accepted = new Set<string>();
    let acceptedCount = 0;
    const response = loadFixture<SkillResponse>('skill-response-reply.json');
    const auth = { ...JSON_TYPE, Authorization: `Bearer ${agentA.token}` };
    // PostgreSQL's jsonb cannot hold U+0000 or unpaired surrogates: a reply carrying them is refused with 400
    // (the agent is told), unlike the Kakao payload, where they are replaced and the message kept.
    const push = (label: string, messageId: string, body: Buffer | string, allowedIfStorable: number[]) => {
      const allowed = storableText(body) ? allowedIfStorable : [400];
      jobs.push({
        endpoint: EP.reply,
        label,
        req: { method: 'POST', path: '/openclaw/reply', headers: auth, body },
        expect: {
          allowed,
          codes: ['VALIDATION_ERROR', 'ALREADY_REPLIED', 'CALLBACK_EXPIRED', 'PAYLOAD_TOO_LARGE'],
          ok: replyAcceptedOk,
        },
        after: (res) => {
          if (res.status === 200) {
            accepted.add(messageId.toLowerCase());
            acceptedCount += 1;
          }
        },
      });
    };
    const ACCEPT = [200, 409];
    const catalogue = hostileValues();
    const base = { messageId: messagesA[0], response };
    for (const path of allPaths(base)) {
      for (const h of rng.sample(catalogue, 3)) {
        const id = rng.pick(messagesA);
        const body = withAt({ ...base, messageId: id }, path, h.value);
        push(
          `${pathLabel(path)} = ${h.label}`,
          id,
          jsonBody(body),
          replyVerdict(path) === 'accept' ? ACCEPT : [400],
        );
      }
      const id = rng.pick(messagesA);
      push(
        `${pathLabel(path)} deleted`,
        id,
        jsonBody(withAt({ ...base, messageId: id }, path, DELETE)),
        replyVerdict(path) === 'accept' ? ACCEPT : [400],
      );
    }
    for (let i = 0; i < 20; i++) {
      const id = rng.pick(messagesA);
      const extra = randomJson(rng);
      const pairs: Array<[string, unknown]> = [
        ['version', '2.0'],
        ['template', { outputs: [{ simpleText: { text: `r${i}` } }] }],
      ];
      if (extra !== null && typeof extra === 'object') pairs.push(['extra', extra]);
      push(`random response ${i}`, id, jsonBody({ messageId: id, response: entries(...pairs) }), ACCEPT);
    }
    for (let i = 0; i < 15; i++) {
      const id = rng.pick(messagesA);
      push(
        `plain text reply ${i}`,
        id,
        jsonBody({
          messageId: id,
          response: { version: '2.0', template: { outputs: [{ simpleText: { text: `답 ${i}` } }] } },
        }),
        ACCEPT,
      );
    }
    const id1 = messagesA[1];
    push('upper-case messageId', id1, jsonBody({ messageId: id1.toUpperCase(), response }), ACCEPT);
    push(
      'response of 200 KiB text',
      id1,
      jsonBody({
        messageId: id1,
        response: {
          version: '2.0',
          template: { outputs: [{ simpleText: { text: 'ㅋ'.repeat(68 * 1024) } }] },
        },
      }),
      ACCEPT,
    );
    push(
      '5000 outputs',
      id1,
      jsonBody({
        messageId: id1,
        response: {
          version: '2.0',
          template: { outputs: Array.from({ length: 5000 }, (_, i) => ({ simpleText: { text: `${i}` } })) },
        },
      }),
      ACCEPT,
    );
    push(
      'numbers 1e309, -0, 2^53+1',
      id1,
      `{"messageId":"${id1}","response":{"version":"2.0","data":{"a":1e309,"b":-0,"c":9007199254740993,"d":-1e309}}}`,
      ACCEPT,
    );
    push(
      '__proto__ key at top level',
      id1,
      `{"__proto__":{"polluted":true},"messageId":"${id1}","response":{"version":"2.0"}}`,
      [200, 400, 409],
    );
    push(
      '__proto__ key in response',
      id1,
      `{"messageId":"${id1}","response":{"version":"2.0","__proto__":{"polluted":true}}}`,
      ACCEPT,
    );
    push(
      'constructor key in response',
      id1,
      `{"messageId":"${id1}","response":{"version":"2.0","constructor":{"prototype":{"polluted":true}}}}`,
      ACCEPT,
    );
    push(
      'messageId twice, last valid',
      id1,
      `{"messageId":"junk","messageId":"${id1}","response":{"version":"2.0"}}`,
      ACCEPT,
    );
    push(
      'version twice, last 2.0',
      id1,
      `{"messageId":"${id1}","response":{"version":"1.0","version":"2.0"}}`,
      ACCEPT,
    );
    // Unknown top-level properties are refused (forbidNonWhitelisted), whatever their name.
    push(
      'extra key "constructor"',
      id1,
      `{"messageId":"${id1}","response":{"version":"2.0"},"constructor":{"prototype":{"x":1}}}`,
      [400],
    );
    push(
      'extra key "toString"',
      id1,
      `{"messageId":"${id1}","response":{"version":"2.0"},"toString":"x"}`,
      [400],
    );
    push(
      'extra key "hasOwnProperty"',
      id1,
      `{"messageId":"${id1}","response":{"version":"2.0"},"hasOwnProperty":1}`,
      [400],
    );
    push(
      'NUL in the text',
      messagesA[2],
      jsonBody({
        messageId: messagesA[2],
        response: { version: '2.0', template: { outputs: [{ simpleText: { text: 'a\u0000b' } }] } },
      }),
      ACCEPT,
    );
    push(
      'lone surrogate in the text',
      messagesA[3],
      `{"messageId":"${messagesA[3]}","response":{"version":"2.0","template":{"outputs":[{"simpleText":{"text":"a\\ud800b"}}]}}}`,
      ACCEPT,
    );
    push(
      'response nested 5,000 deep',
      messagesA[4],
      `{"messageId":"${messagesA[4]}","response":{"version":"2.0","deep":${deepObjectText(5_000)}}}`,
      [200, 400, 409],
    );
    await runJobs(phase, jobs);
    const newOutbound = [...accepted].filter((id) => !hadOutbound.has(id)).length;
    // Every accepted reply was stored, and nothing else: the replies in the rows grew by exactly the 200s.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const [{ n: repliesAfter }] = await sql<{ n: number }>(
      'SELECT coalesce(sum(jsonb_array_length(replies)), 0)::int AS n FROM outbound_messages WHERE account_id = $1',
      [agentA.accountId],
    );
    await expectPhase(phase, before, { outbound_messages: newOutbound }, 120, {
      'stored replies added': [repliesAfter - repliesBefore, acceptedCount],
    });
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
