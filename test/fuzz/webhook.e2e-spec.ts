import { createHmac } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import type { SkillResponse } from '@app/core';
import { sql, SseClient, textOf, userMessage } from '@app/testing';
import { KO } from '@app/core';
import { rowCounts } from '../support/fuzz/db';
import { send } from '../support/fuzz/http-client';
import {
  allPaths,
  DELETE,
  deepArrayText,
  deepObjectText,
  entries,
  hostileValues,
  pathLabel,
  raw,
  toJsonText,
  withAt,
} from '../support/fuzz/json-text';
import { valueString, webhookOk, webhookVerdict } from '../support/fuzz/oracles';
import { Expectation } from '../support/fuzz/recorder';
import {
  EP,
  fuzzSuite,
  Job,
  JSON_TYPE,
  jsonBody,
  kakaoPayload,
  phaseRng,
  SEED,
  SIGNATURE_SECRET,
  SKILL_SECRET,
} from '../support/fuzz/suite';

/*
 * Fuzz e2e (see test/support/fuzz/suite.ts): malformed bodies, wrong types at every field, forged credentials
 * (against a second relay with both webhook secrets) and odd payloads of a paired user.
 */

describe('fuzz: the Kakao webhook POST /kakao/webhook (e2e)', () => {
  const fuzz = fuzzSuite('webhook', { secured: true });
  const { recorder, runJobs, expectPhase } = fuzz;

  it('the webhook: malformed bodies, content types, invalid UTF-8, huge and deeply nested payloads', async () => {
    const { agentA } = fuzz.world;
    const phase = 'webhook-malformed';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const stranger = `fuzz-stranger-${rng.hex(8)}`;
    const base = kakaoPayload({ userKey: stranger, utterance: '안녕하세요' });
    const baseText = toJsonText(base);
    const hook = (
      label: string,
      body: Buffer | string | undefined,
      headers: Record<string, string>,
      allowed: number[],
    ) =>
      jobs.push({
        endpoint: EP.webhook,
        label,
        req: { method: 'POST', path: '/kakao/webhook', headers, body },
        expect: {
          allowed,
          webhook: true,
          ok: webhookOk,
          codes: ['VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'],
        },
      });
    const junkBodies = [
      '',
      ' ',
      'null',
      'true',
      '0',
      '-0',
      '1e309',
      '"str"',
      '[]',
      '[{}]',
      '{}',
      '{',
      '}',
      '{"userRequest":',
      'undefined',
      'NaN',
      "{'a':1}",
      '{"a":1,}',
      '\ufeff{}',
      `${baseText}garbage`,
      `${baseText}${baseText}`,
      `[${baseText}]`,
      `"${baseText}"`,
    ];
    for (const b of junkBodies) hook(`body ${JSON.stringify(b.slice(0, 30))}`, b, JSON_TYPE, [400]);
    hook('BOM + valid payload', `\ufeff${baseText}`, JSON_TYPE, [200, 400]);
    hook(
      'valid payload + trailing NUL byte',
      Buffer.concat([Buffer.from(baseText), Buffer.from([0])]),
      JSON_TYPE,
      [200, 400],
    );
    const types = [
      undefined,
      'text/plain',
      'multipart/form-data; boundary=xyz',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;;;',
      'application/json; charset=',
      'image/png',
      '',
      '*/*',
      'application/vnd.kakao+json',
      'x'.repeat(1000),
      'application/json, text/plain',
      'text/html; charset=utf-8',
    ];
    for (const type of types) {
      hook(
        `Content-Type ${String(type).slice(0, 40)}`,
        baseText,
        type === undefined ? {} : { 'Content-Type': type },
        [200, 400, 415],
      );
    }
    const multipart = `--xyz\r\nContent-Disposition: form-data; name="payload"\r\n\r\n${baseText}\r\n--xyz--\r\n`;
    hook(
      'real multipart body',
      multipart,
      { 'Content-Type': 'multipart/form-data; boundary=xyz' },
      [400, 415],
    );
    hook(
      'form body',
      `userRequest=${encodeURIComponent(baseText)}`,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      [400, 415],
    );
    hook(
      'UTF-16LE body',
      Buffer.from(baseText, 'utf16le'),
      { 'Content-Type': 'application/json; charset=utf-16le' },
      [200, 400, 415],
    );
    // Invalid UTF-8 inside the utterance string, inside a key, and as the whole body.
    const badSequences = [
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
      [0xfe, 0xff],
      [0xf4, 0x90, 0x80, 0x80],
    ];
    for (const seq of badSequences) {
      const [head, tail] = baseText.split('안녕하세요');
      hook(
        `invalid UTF-8 ${Buffer.from(seq).toString('hex')} in utterance`,
        Buffer.concat([Buffer.from(head), Buffer.from(seq), Buffer.from(tail)]),
        JSON_TYPE,
        [200, 400],
      );
    }
    hook(
      'invalid UTF-8 in a key',
      Buffer.concat([Buffer.from('{"'), Buffer.from([0xff, 0xfe]), Buffer.from(`":1,${baseText.slice(1)}`)]),
      JSON_TYPE,
      [200, 400],
    );
    for (let i = 0; i < 6; i++) hook(`random bytes ${i}`, rng.bytes(rng.int(1, 4000)), JSON_TYPE, [400]);
    // Sizes.
    for (const [lo, hi] of [
      [100, 200],
      [300, 400],
      [600, 700],
      [850, 900],
    ]) {
      const n = rng.int(lo * 1024, hi * 1024);
      hook(
        `utterance ${Math.round(n / 1024)} KiB`,
        toJsonText(kakaoPayload({ userKey: stranger, utterance: 'ㅋ'.repeat(n / 3) })),
        JSON_TYPE,
        [400],
      );
    }
    hook(
      'body 1.1 MiB',
      toJsonText(kakaoPayload({ userKey: stranger, utterance: 'x'.repeat(1.1 * 1024 * 1024) })),
      JSON_TYPE,
      [413],
    );
    hook(
      'utterance of 10,000 chars',
      toJsonText(kakaoPayload({ userKey: stranger, utterance: 'ㅋ'.repeat(10000) })),
      JSON_TYPE,
      [200],
    );
    hook(
      'utterance of 10,001 chars',
      toJsonText(kakaoPayload({ userKey: stranger, utterance: 'ㅋ'.repeat(10001) })),
      JSON_TYPE,
      [400],
    );
    hook(
      '5000-element contexts',
      toJsonText({ ...base, contexts: Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}` })) }),
      JSON_TYPE,
      [200],
    );
    hook(
      '5000-element params array',
      toJsonText(
        withAt(
          base,
          ['userRequest', 'params', 'list'],
          Array.from({ length: 5000 }, () => 'x'),
        ),
      ),
      JSON_TYPE,
      [200],
    );
    // Deep nesting: as the whole body, and inside an otherwise valid payload.
    hook('[ × 10,000', deepArrayText(10_000), JSON_TYPE, [400]);
    hook('[ × 100,000', deepArrayText(100_000), JSON_TYPE, [400]);
    hook('{"a": × 10,000', deepObjectText(10_000), JSON_TYPE, [400]);
    hook('{"a": × 1,000', deepObjectText(1_000), JSON_TYPE, [400]);
    const deepInside = (depth: number, text: string) =>
      baseText.replace('"params":{}', `"params":{"deep":${text}}`);
    hook(
      'valid payload, action.params 10,000 deep',
      deepInside(10_000, deepObjectText(10_000)),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'valid payload, contexts [ × 10,000',
      baseText.replace('"contexts":[]', `"contexts":${deepArrayText(10_000)}`),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'valid payload, action.params 1,000 deep',
      deepInside(1_000, deepObjectText(1_000)),
      JSON_TYPE,
      [200, 400],
    );
    // Compression: a bomb, valid deflate, junk encodings.
    const bomb = gzipSync(Buffer.from(`{"a":"${'0'.repeat(8 * 1024 * 1024)}"}`));
    hook(`gzip bomb (${bomb.length} B → 8 MiB)`, bomb, { ...JSON_TYPE, 'Content-Encoding': 'gzip' }, [413]);
    hook(
      'valid deflate payload',
      deflateSync(Buffer.from(baseText)),
      { ...JSON_TYPE, 'Content-Encoding': 'deflate' },
      [200, 400, 415],
    );
    hook(
      'gzip header, junk bytes',
      Buffer.concat([Buffer.from([0x1f, 0x8b]), rng.bytes(100)]),
      { ...JSON_TYPE, 'Content-Encoding': 'gzip' },
      [400, 415],
    );
    hook('Content-Encoding br (junk)', rng.bytes(50), { ...JSON_TYPE, 'Content-Encoding': 'br' }, [400, 415]);
    hook('Content-Encoding xz', baseText, { ...JSON_TYPE, 'Content-Encoding': 'xz' }, [400, 415]);
    // Duplicate keys and prototype keys: they never supply a field or an identity.
    const ur = toJsonText(base.userRequest);
    hook('userRequest only under __proto__', `{"__proto__":{"userRequest":${ur}}}`, JSON_TYPE, [400]);
    hook(
      'userRequest only under constructor.prototype',
      `{"constructor":{"prototype":{"userRequest":${ur}}}}`,
      JSON_TYPE,
      [400],
    );
    hook(
      'userRequest twice, last broken',
      `{"userRequest":${ur},"userRequest":{"utterance":5}}`,
      JSON_TYPE,
      [400],
    );
    hook(
      'userRequest twice, last valid',
      `{"userRequest":{"utterance":5},"userRequest":${ur}}`,
      JSON_TYPE,
      [200],
    );
    hook(
      'utterance and user under userRequest.__proto__',
      `{"userRequest":{"__proto__":{"utterance":"hi","user":{"id":"x"}}}}`,
      JSON_TYPE,
      [400],
    );
    const impersonate = (props: string) =>
      baseText.replace(/"properties":\{[^}]*\}/, `"properties":${props}`);
    hook(
      'plusfriendUserKey of agent A under __proto__',
      impersonate(`{"__proto__":{"plusfriendUserKey":"${agentA.userKey}"}}`),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'plusfriendUserKey of A, then an object',
      impersonate(`{"plusfriendUserKey":"${agentA.userKey}","plusfriendUserKey":{}}`),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'plusfriendUserKey of A under constructor.prototype',
      impersonate(`{"constructor":{"prototype":{"plusfriendUserKey":"${agentA.userKey}"}}}`),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'bot.id under __proto__',
      baseText.replace(/"bot":\{[^}]*\}/, '"bot":{"__proto__":{"id":"x"}}'),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'top-level constructor.prototype pollution + valid',
      baseText.replace(/^\{/, '{"constructor":{"prototype":{"polluted":1}},'),
      JSON_TYPE,
      [200, 400],
    );
    hook(
      'top-level __proto__ pollution + valid',
      baseText.replace(/^\{/, '{"__proto__":{"polluted":1},'),
      JSON_TYPE,
      [200, 400],
    );
    // Odd identities of an unpaired user: the answer is the pairing hint (or a 400), never an internal error.
    for (const [label, value] of [
      ['NUL', 'a\u0000b'],
      ['lone surrogate', 'a\ud800b'],
      ['10k chars', 'k'.repeat(10000)],
      ['RTL', '\u202e'],
    ]) {
      hook(
        `plusfriendUserKey with ${label}`,
        toJsonText(kakaoPayload({ userKey: value })),
        JSON_TYPE,
        [200, 400],
      );
      hook(
        `bot.id with ${label}`,
        toJsonText(kakaoPayload({ userKey: stranger, botId: value })),
        JSON_TYPE,
        [200, 400],
      );
      hook(
        `user.id with ${label}, no plusfriendUserKey`,
        toJsonText(
          withAt(
            withAt(base, ['userRequest', 'user', 'properties'], {}),
            ['userRequest', 'user', 'id'],
            value,
          ),
        ),
        JSON_TYPE,
        [200, 400],
      );
    }
    for (const n of ['1e309', '-0', '123456789012345678901234567890', '-1e309']) {
      hook(`user.id ${n}`, `{"userRequest":{"utterance":"hi","user":{"id":${n}}}}`, JSON_TYPE, [400]);
    }
    await runJobs(phase, jobs, 4);
    await expectPhase(phase, before, {}, 100);
  }, 60_000);

  it('the webhook: wrong JSON types at every field of the SkillPayload (unpaired users: no rows)', async () => {
    const phase = 'webhook-types';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const stranger = `fuzz-typer-${rng.hex(8)}`;
    const base = kakaoPayload({ userKey: stranger });
    const catalogue = hostileValues();
    const push = (label: string, payload: unknown, allowed: number[]) =>
      jobs.push({
        endpoint: EP.webhook,
        label,
        req: { method: 'POST', path: '/kakao/webhook', headers: JSON_TYPE, body: jsonBody(payload) },
        expect: { allowed, webhook: true, ok: webhookOk, codes: ['VALIDATION_ERROR'] },
      });
    for (const path of allPaths(base)) {
      for (const h of rng.sample(catalogue, 4)) {
        const verdict = webhookVerdict(path, h);
        push(
          `${pathLabel(path)} = ${h.label}`,
          withAt(base, path, h.value),
          verdict === 'accept' ? [200] : [400],
        );
      }
      push(
        `${pathLabel(path)} deleted`,
        withAt(base, path, DELETE),
        webhookVerdict(path, 'deleted') === 'accept' ? [200] : [400],
      );
    }
    // Two mutations at once: only "some status below 500, uniform body" can be said.
    const paths = allPaths(base);
    for (let i = 0; i < 40; i++) {
      const [p1, p2] = rng.sample(paths, 2);
      const [h1, h2] = [rng.pick(catalogue), rng.pick(catalogue)];
      let payload: unknown;
      try {
        payload = withAt(withAt(base, p1, h1.value), p2, h2.value);
      } catch {
        continue; // p2 lived under p1, which is gone
      }
      push(`${pathLabel(p1)} = ${h1.label} & ${pathLabel(p2)} = ${h2.label}`, payload, [200, 400]);
    }
    // Relay commands with odd arguments (the stranger is unpaired; /pair codes here are never live).
    for (const utterance of [
      '/pair',
      '/PAIR  abcd-efgh',
      '/pair ' + 'A'.repeat(10000 - 6),
      '/pair AAAA-AAAA',
      '/unpair',
      '/status',
      '/help',
      '/HELP me',
      '/pair\u0000ABCD1234',
      '/pair ABCD-２３４５',
      '/\u202epair',
      '/pair ' + '-'.repeat(50),
      '/statusx',
      '//pair x',
    ]) {
      push(
        `utterance ${JSON.stringify(utterance.slice(0, 24))}`,
        kakaoPayload({ userKey: stranger, utterance }),
        [200],
      );
    }
    await runJobs(phase, jobs);
    await expectPhase(phase, before, {}, 200);
  }, 60_000);

  it('the webhook with secrets: forged, missing and malformed credentials never pair (401, no rows)', async () => {
    const { secured, bait } = fuzz.world;
    const phase = 'webhook-auth';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const text = toJsonText(
      kakaoPayload({ utterance: `/pair ${bait.pairingCode}`, userKey: 'fuzz-intruder', callbackUrl: null }),
    );
    const sig = (secret: string, body: string | Buffer) =>
      createHmac('sha256', secret).update(body).digest('hex');
    const good = sig(SIGNATURE_SECRET, text);
    const forged: Expectation = {
      allowed: [401],
      codes: ['INVALID_SKILL_SECRET', 'INVALID_SIGNATURE', 'UNAUTHORIZED'],
    };
    const push = (
      label: string,
      headers: Record<string, string | string[]>,
      body: string | Buffer = text,
      exp = forged,
    ) =>
      jobs.push({
        endpoint: EP.webhook,
        label,
        target: 'secured',
        req: { method: 'POST', path: '/kakao/webhook', headers: { ...JSON_TYPE, ...headers }, body },
        expect: exp,
      });
    push('no credentials', {});
    push('secret only', { 'X-Relay-Skill-Secret': SKILL_SECRET });
    push('signature only', { 'X-Kakao-Signature': good });
    const badSecrets = [
      '',
      'x',
      SKILL_SECRET.toUpperCase(),
      `${SKILL_SECRET}x`,
      SKILL_SECRET.slice(0, -1),
      's'.repeat(10240),
      '\u00ff\u00fe',
      `"${SKILL_SECRET}"`,
      `${SKILL_SECRET},${SKILL_SECRET}`,
      SIGNATURE_SECRET,
    ];
    for (const s of badSecrets)
      push(`secret ${JSON.stringify(s.slice(0, 24))} + good signature`, {
        'X-Relay-Skill-Secret': s,
        'X-Kakao-Signature': good,
      });
    const badSigs = [
      '',
      'x',
      `sha256=${good}`,
      `${good}a`,
      good.slice(0, -1),
      sig(SIGNATURE_SECRET, `${text}\n`),
      sig('wrong-secret-123', text),
      'f'.repeat(10240),
      'z'.repeat(64),
      sig(SIGNATURE_SECRET, ''),
      createHmac('sha1', SIGNATURE_SECRET).update(text).digest('hex'),
      createHmac('sha256', SIGNATURE_SECRET).update(text).digest('base64'),
      '\u00ff'.repeat(64),
    ];
    for (const s of badSigs)
      push(`good secret + signature ${JSON.stringify(s.slice(0, 24))}`, {
        'X-Relay-Skill-Secret': SKILL_SECRET,
        'X-Kakao-Signature': s,
      });
    push('two signature headers', {
      'X-Relay-Skill-Secret': SKILL_SECRET,
      'X-Kakao-Signature': [good, good],
    });
    push('two secret headers', {
      'X-Relay-Skill-Secret': [SKILL_SECRET, SKILL_SECRET],
      'X-Kakao-Signature': good,
    });
    // Valid credentials of one body, another body sent.
    const creds = { 'X-Relay-Skill-Secret': SKILL_SECRET, 'X-Kakao-Signature': good };
    push('tampered: extra whitespace', creds, `${text} `);
    push('tampered: utterance changed', creds, text.replace('/pair', '/PAIR'));
    push(
      'tampered: duplicate key appended',
      creds,
      text.replace(/}$/, ',"userRequest":{"utterance":"x","user":{"id":"y"}}}'),
    );
    push('tampered: re-encoded', creds, Buffer.from(text, 'utf16le'));
    // Authentication is decided before parsing: malformed bodies without credentials are 401, not 400 or 500.
    for (const body of ['{', 'null', deepArrayText(10_000), deepObjectText(10_000), '']) {
      push(`no credentials, body ${JSON.stringify(body.slice(0, 12))}…`, {}, body);
    }
    push('no credentials, text/plain', { 'Content-Type': 'text/plain' }, text);
    push(
      'no credentials, invalid UTF-8',
      {},
      Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(20))]),
    );
    push('no credentials, 1.1 MiB', {}, `{"a":"${'x'.repeat(1.1 * 1024 * 1024)}"}`, {
      allowed: [401, 413],
      codes: ['INVALID_SKILL_SECRET', 'PAYLOAD_TOO_LARGE'],
    });
    for (let i = 0; i < 25; i++) {
      const alphabet = '0123456789abcdefABCDEF =:,\t"\u00e9';
      push(`random credentials ${i}`, {
        'X-Relay-Skill-Secret': rng.chance(0.5) ? SKILL_SECRET : rng.string(rng.int(0, 40), alphabet),
        'X-Kakao-Signature': rng.string(rng.int(0, 80), alphabet),
      });
    }
    await runJobs(phase, jobs);
    // Positive control: the same relay takes a correctly authenticated request (a harmless command).
    const help = toJsonText(
      kakaoPayload({ utterance: '/help', userKey: 'fuzz-intruder', callbackUrl: null }),
    );
    const control = await send(secured.port, {
      method: 'POST',
      path: '/kakao/webhook',
      headers: {
        ...JSON_TYPE,
        'X-Relay-Skill-Secret': SKILL_SECRET,
        'X-Kakao-Signature': sig(SIGNATURE_SECRET, help),
      },
      body: help,
    });
    recorder.check({
      phase,
      endpoint: EP.webhook,
      label: 'control: valid credentials, /help',
      res: control,
      expect: { allowed: [200], webhook: true, ok: webhookOk },
    });
    const [baitRow] = await sql<{ status: string }>('SELECT status FROM sessions WHERE pairing_code = $1', [
      bait.pairingCode.replace('-', ''),
    ]);
    expect(baitRow.status).toBe('pending_pairing');
    await expectPhase(phase, before, {}, 60);
  }, 60_000);

  it('the webhook for a paired user: odd but parseable payloads, stored rows counted exactly', async () => {
    const { relay, kakao, agentA } = fuzz.world;
    const phase = 'webhook-paired';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const storedCallbacks = new Set<string>();
    let inlineStored = 0;
    let n = 0;
    // An allowed callback URL of this relay (KAKAO_CALLBACK_ALLOWED_HOSTS=127.0.0.1,localhost).
    const cb = () => `${kakao.url}/v1/callback/fuzz-${SEED}-${n++}`;
    const identity = new Set([
      'bot',
      'bot.id',
      'userRequest',
      'userRequest.user',
      'userRequest.user.properties',
      'userRequest.user.properties.plusfriendUserKey',
    ]);
    const push = (label: string, payload: unknown, allowed: number[], callbackOf: unknown = payload) => {
      const callbackUrl = (callbackOf as { userRequest?: { callbackUrl?: unknown } })?.userRequest
        ?.callbackUrl;
      jobs.push({
        endpoint: EP.webhook,
        label,
        req: { method: 'POST', path: '/kakao/webhook', headers: JSON_TYPE, body: jsonBody(payload) },
        expect: { allowed, webhook: true, ok: webhookOk, codes: ['VALIDATION_ERROR'] },
        after: (res, json) => {
          if (res.status !== 200) return;
          const body = json as SkillResponse;
          if (body.useCallback === true) {
            const url = valueString(callbackUrl);
            if (url !== null) storedCallbacks.add(url);
          } else if (textOf(body) === KO.notReady) {
            inlineStored += 1;
          }
        },
      });
    };
    const base = () => userMessage(agentA.userKey, '오늘 뭐 해?', cb());
    const catalogue = hostileValues();
    for (const path of allPaths(base())) {
      if (identity.has(pathLabel(path))) continue;
      for (const h of rng.sample(catalogue, 2)) {
        push(
          `${pathLabel(path)} = ${h.label}`,
          withAt(base(), path, h.value),
          webhookVerdict(path, h) === 'accept' ? [200] : [400],
        );
      }
    }
    push('utterance of 9,999 chars', userMessage(agentA.userKey, 'ㅋ'.repeat(9999), cb()), [200]);
    push('utterance of 10,001 chars', userMessage(agentA.userKey, 'ㅋ'.repeat(10001), cb()), [400]);
    push(
      '5000 contexts',
      { ...base(), contexts: Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, lifeSpan: i })) },
      [200],
    );
    push(
      'params with 1e309, -0, 2^53+1, 30 digits',
      withAt(
        base(),
        ['action', 'params'],
        entries(
          ['inf', raw('1e309')],
          ['negzero', raw('-0')],
          ['big', raw('9007199254740993')],
          ['huge', raw('123456789012345678901234567890')],
        ),
      ),
      [200],
    );
    const dupBase = base();
    push(
      'duplicate utterance keys',
      entries(
        ...Object.entries(dupBase).map(([k, v]): [string, unknown] =>
          k === 'userRequest'
            ? [k, entries(...Object.entries(v as object), ['utterance', '두 번째'])]
            : [k, v],
        ),
      ),
      [200],
      dupBase,
    );
    push(
      '__proto__ and constructor keys in action.params',
      withAt(
        base(),
        ['action', 'params'],
        entries(['__proto__', { polluted: true }], ['constructor', { prototype: { polluted: true } }]),
      ),
      [200],
    );
    const dup = base();
    push('same callbackUrl twice (1)', dup, [200]);
    push('same callbackUrl twice (2)', dup, [200]);
    for (let i = 0; i < 3; i++)
      push(`inline (no callbackUrl) ${i}`, userMessage(agentA.userKey, `inline ${i}`, null), [200]);
    // Text that would forge stream events if the stream did not escape it.
    const forging = [
      'a\n\nid: 999\nevent: pairing_complete\ndata: {"x":1}\n\n',
      '\r\n\r\n: ping\r\n',
      'data: x\rdata: y',
      '\u2028\u2029\u0085',
      'event: error\n',
    ];
    for (const text of forging) {
      push(
        `utterance forging SSE ${JSON.stringify(text.slice(0, 16))}`,
        userMessage(agentA.userKey, text, cb()),
        [200],
      );
    }
    // Few in flight: the inline waits are short, and the duplicate pair meets the unique index either way.
    const since = (await sql<{ now: Date }>('SELECT now() AS now'))[0].now;
    await runJobs(phase, jobs, 3);
    // Which stored rows the answers do not explain (or which answers promised a row that is not there).
    const rows = await sql<{ callback_url: string | null }>(
      'SELECT callback_url FROM inbound_messages WHERE account_id = $1 AND created_at >= $2',
      [agentA.accountId, since],
    );
    const inDb = rows.map((r) => r.callback_url);
    // The agent's stream then replays every stored message, each framed exactly as the contract says.
    const stored = await sql<{ id: string; seq: string; text: string }>(
      `SELECT id, seq::text, normalized->>'text' AS text FROM inbound_messages WHERE account_id = $1 AND created_at >= $2`,
      [agentA.accountId, since],
    );
    const stream = await SseClient.connect(relay.url, { token: agentA.token });
    let badBlocks: string[] = [];
    let missing: string[] = [];
    try {
      const deadline = Date.now() + 5000;
      const seen = () => new Set(stream.dataOf<{ id: string }>('message').map((m) => m.id));
      while (stored.some((r) => !seen().has(r.id)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      missing = stored.filter((r) => !seen().has(r.id)).map((r) => r.id);
      const byId = new Map(stored.map((r) => [r.id, r]));
      badBlocks = stream.events
        .filter((e) => {
          if (!/^id: \d+\nevent: [a-z_]+\ndata: [^\n\r]*\n\n$/.test(e.raw)) return true;
          if (e.event !== 'message') return false;
          const data = JSON.parse(e.data) as { id: string; normalized: { text: string } };
          const row = byId.get(data.id);
          return row !== undefined && (row.text !== data.normalized.text || e.id !== row.seq);
        })
        .map((e) => e.raw.slice(0, 200));
    } finally {
      stream.close();
    }
    await expectPhase(phase, before, { inbound_messages: storedCallbacks.size + inlineStored }, 70, {
      'messages not replayed on the stream': [missing, []],
      'stream blocks not framed per contract': [badBlocks, []],
      'stored rows no answer explains': [inDb.filter((u) => u !== null && !storedCallbacks.has(u)), []],
      'answers promising a row that is missing': [[...storedCallbacks].filter((u) => !inDb.includes(u)), []],
      'inline rows': [inDb.filter((u) => u === null).length, inlineStored],
    });
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
