import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import request from 'supertest';
import { KO, type KakaoSkillPayload } from '@app/core';
import { InboundMessagesRepository } from '@app/persistence';
import {
  kakaoPayload,
  openStream,
  pairAgent,
  PairedAgent,
  postReply,
  resetState,
  SseClient,
  sql,
  TEST_DATABASE_URL,
  textReply,
  userMessage,
  waitUntil,
  KAKAO_MESSAGE_EVENT_KEYS,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

/*
 * One pipeline: every webhook request, however it is framed, encoded or spelled, gets the same answer — status,
 * body and the headers that matter — and leaves the same rows in PostgreSQL. Each shape below carries the same
 * JSON body; the answers of all shapes are compared with the plain one's, on each path of the pipeline.
 */

const SKILL_SECRET = 'skill-secret-for-parity';
const SIGNATURE_SECRET = 'signature-secret-for-parity';

interface Shape {
  name: string;
  path?: string;
  contentType?: string;
  /** How the JSON text becomes bytes (before any compression): UTF-8 unless told. */
  charset?: (text: string) => Buffer;
  compress?: { encoding: string; apply: (bytes: Buffer) => Buffer };
  chunked?: boolean;
}

const gzip = { encoding: 'gzip', apply: (b: Buffer) => gzipSync(b) };
const SHAPES: Shape[] = [
  { name: 'plain JSON with Content-Length' },
  { name: 'chunked', chunked: true },
  { name: 'gzip', compress: gzip },
  { name: 'gzip, chunked', compress: gzip, chunked: true },
  { name: 'deflate', compress: { encoding: 'deflate', apply: (b) => deflateSync(b) } },
  { name: 'br', compress: { encoding: 'br', apply: (b) => brotliCompressSync(b) } },
  { name: 'charset=utf-8', contentType: 'application/json; charset=utf-8' },
  { name: 'charset=UTF-8, no space', contentType: 'application/json;charset=UTF-8' },
  { name: 'charset="utf-8"', contentType: 'application/json; charset="utf-8"' },
  {
    name: 'charset=utf-16le',
    contentType: 'application/json; charset=utf-16le',
    charset: (text) => Buffer.from(text, 'utf16le'),
  },
  { name: '?query', path: '/kakao/webhook?source=kakao&x=1' },
  { name: 'trailing slash', path: '/kakao/webhook/' },
  { name: 'other letter case', path: '/Kakao/Webhook' },
];

interface Answer {
  status: number;
  /** The body's bytes as text (compared exactly), and parsed. */
  text: string;
  body: unknown;
  headers: Record<string, string | undefined>;
}

/** The headers compared between shapes (present or not, and their values). */
const COMPARED_HEADERS = ['content-type', 'retry-after'];

interface SendOptions {
  /** Sign the body (the decompressed bytes) and send the skill secret. */
  auth?: boolean;
  /** Replace the skill secret with a wrong one. */
  wrongSecret?: boolean;
  requestId?: string;
}

/** POSTs `text` to the webhook in the given shape; the answer with every response header. */
function send(relay: RunningRelay, shape: Shape, text: string, options: SendOptions = {}): Promise<Answer> {
  const plain = shape.charset ? shape.charset(text) : Buffer.from(text);
  const bytes = shape.compress ? shape.compress.apply(plain) : plain;
  const headers: Record<string, string> = { 'Content-Type': shape.contentType ?? 'application/json' };
  if (shape.compress) headers['Content-Encoding'] = shape.compress.encoding;
  if (options.auth) {
    headers['X-Relay-Skill-Secret'] = options.wrongSecret ? 'not-the-secret' : SKILL_SECRET;
    headers['X-Kakao-Signature'] = createHmac('sha256', SIGNATURE_SECRET).update(plain).digest('hex');
  }
  if (options.requestId) headers['X-Request-Id'] = options.requestId;
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      `${relay.url}${shape.path ?? '/kakao/webhook'}`,
      { method: 'POST', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const flat: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            flat[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, text: body, body: JSON.parse(body), headers: flat });
        });
      },
    );
    req.on('error', reject);
    if (shape.chunked) {
      req.setHeader('Transfer-Encoding', 'chunked');
      const third = Math.ceil(bytes.length / 3);
      req.write(bytes.subarray(0, third));
      req.write(bytes.subarray(third, 2 * third));
      req.end(bytes.subarray(2 * third));
    } else {
      req.setHeader('Content-Length', bytes.length);
      req.end(bytes);
    }
  });
}

/** What must be the same for every shape: status, body, and the headers that matter. */
function comparable(answer: Answer) {
  const headers: Record<string, string | undefined> = {};
  for (const name of COMPARED_HEADERS) headers[name] = answer.headers[name];
  return { status: answer.status, text: answer.text, headers };
}

/** The security headers helmet sets on the relay's other routes (read from GET /health). */
async function helmetHeaders(relay: RunningRelay): Promise<Record<string, string>> {
  const res = await request(relay.url).get('/health').expect(200);
  const names = [
    'content-security-policy',
    'cross-origin-opener-policy',
    'cross-origin-resource-policy',
    'origin-agent-cluster',
    'referrer-policy',
    'strict-transport-security',
    'x-content-type-options',
    'x-dns-prefetch-control',
    'x-download-options',
    'x-frame-options',
    'x-permitted-cross-domain-policies',
    'x-xss-protection',
  ];
  const headers: Record<string, string> = {};
  for (const name of names) {
    expect(res.headers[name]).toEqual(expect.any(String));
    headers[name] = res.headers[name] as string;
  }
  return headers;
}

/**
 * Sends one request per shape (made by `make`), and checks that every shape got the plain shape's answer, with
 * helmet's headers and an `X-Request-Id`. Returns the answers by shape name.
 */
async function expectSameAnswers(
  relay: RunningRelay,
  security: Record<string, string>,
  make: (shape: Shape) => Promise<Answer>,
): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  for (const shape of SHAPES) answers.set(shape.name, await make(shape));
  const reference = comparable(answers.get(SHAPES[0].name) as Answer);
  for (const [name, answer] of answers) {
    expect({ shape: name, ...comparable(answer) }).toEqual({ shape: name, ...reference });
    expect({ shape: name, requestId: answer.headers['x-request-id'] }).toEqual({
      shape: name,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    for (const [header, value] of Object.entries(security)) {
      expect({ shape: name, header, value: answer.headers[header] }).toEqual({ shape: name, header, value });
    }
  }
  return answers;
}

interface MessageEvent {
  id: string;
  channel: string;
  kakaoPayload?: unknown;
  payload: unknown;
  normalized: { userId: string; text: string; channelId: string };
}

interface StoredRow {
  channel: string;
  kakao_payload: unknown;
  normalized: { userId: string; text: string; channelId: string };
  callback_url: string | null;
  status: string;
}

async function rowsOfText(text: string): Promise<StoredRow[]> {
  return sql<StoredRow>(
    `SELECT channel, kakao_payload, normalized, callback_url, status FROM inbound_messages
      WHERE normalized->>'text' = $1 ORDER BY seq`,
    [text],
  );
}

describe('webhook: one pipeline for every request shape (e2e)', () => {
  let relay: RunningRelay;
  let agent: PairedAgent;
  let stream: SseClient;
  let security: Record<string, string>;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({
      KAKAO_SKILL_SECRET: SKILL_SECRET,
      KAKAO_SIGNATURE_SECRET: SIGNATURE_SECRET,
      INLINE_REPLY_TIMEOUT_MS: '3000',
      REPLY_COALESCE_MS: '50',
    });
    security = await helmetHeaders(relay);
    // Paired through the pipeline itself (a signed /pair).
    const session = (await request(relay.url).post('/v1/sessions/create').send({}).expect(200)).body as {
      sessionToken: string;
      pairingCode: string;
    };
    const pair = await send(
      relay,
      SHAPES[0],
      JSON.stringify(kakaoPayload({ utterance: `/pair ${session.pairingCode}`, userKey: 'parity-user' })),
      { auth: true },
    );
    expect(pair.status).toBe(200);
    const status = await request(relay.url).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
    agent = {
      token: session.sessionToken,
      accountId: status.body.accountId as string,
      userKey: 'parity-user',
    };
    stream = await openStream(relay.url, agent.token);
  });
  afterAll(async () => {
    stream?.close();
    await relay.close();
  });

  it('a command (/help): the same answer', async () => {
    const text = JSON.stringify(kakaoPayload({ utterance: '/help', userKey: 'parity-user' }));
    const answers = await expectSameAnswers(relay, security, (shape) =>
      send(relay, shape, text, { auth: true }),
    );
    expect(answers.get(SHAPES[0].name)?.body).toEqual({
      version: '2.0',
      template: { outputs: [{ simpleText: { text: KO.help } }] },
    });
  });

  it('stored (callback): useCallback, the same row, the same message event', async () => {
    const text = 'parity stored';
    const sent = new Map<string, KakaoSkillPayload>();
    const answers = await expectSameAnswers(relay, security, (shape) => {
      const payload = userMessage('parity-user', text);
      sent.set(shape.name, payload);
      return send(relay, shape, JSON.stringify(payload), { auth: true });
    });
    expect(answers.get(SHAPES[0].name)?.body).toEqual({ version: '2.0', useCallback: true });
    const rows = await rowsOfText(text);
    expect(rows).toHaveLength(SHAPES.length);
    for (const [i, shape] of SHAPES.entries()) {
      const payload = sent.get(shape.name) as KakaoSkillPayload;
      expect({ shape: shape.name, ...rows[i], status: 'any' }).toEqual({
        shape: shape.name,
        channel: 'kakao',
        kakao_payload: payload,
        normalized: { userId: 'parity-user', text, channelId: payload.bot?.id },
        callback_url: payload.userRequest.callbackUrl,
        status: 'any',
      });
    }
    const events = () => stream.dataOf<MessageEvent>('message').filter((e) => e.normalized.text === text);
    await waitUntil(() => events().length === SHAPES.length);
    for (const [i, shape] of SHAPES.entries()) {
      const payload = sent.get(shape.name);
      expect(Object.keys(events()[i])).toEqual(KAKAO_MESSAGE_EVENT_KEYS);
      expect({ shape: shape.name, ...events()[i] }).toMatchObject({
        shape: shape.name,
        channel: 'kakao',
        kakaoPayload: payload,
        payload,
      });
    }
  });

  it('duplicate: the same request again is answered alike and stored once', async () => {
    const text = 'parity duplicate';
    const payload = userMessage('parity-user', text);
    const raw = JSON.stringify(payload);
    await expectSameAnswers(relay, security, (shape) => send(relay, shape, raw, { auth: true }));
    // The first shape stored it; every other shape (and a second round) was a duplicate.
    const again = await expectSameAnswers(relay, security, (shape) =>
      send(relay, shape, raw, { auth: true }),
    );
    expect(again.get(SHAPES[0].name)?.body).toEqual({ version: '2.0', useCallback: true });
    const rows = await rowsOfText(text);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: 'kakao', kakao_payload: payload });
  });

  it("inline (no callbackUrl): the webhook answers with the agent's reply", async () => {
    const answers = await expectSameAnswers(relay, security, async (shape) => {
      const text = `parity inline ${SHAPES.indexOf(shape)}`;
      const payload = userMessage('parity-user', text, null);
      const pending = send(relay, shape, JSON.stringify(payload), { auth: true });
      const event = await stream.waitFor(
        (e) => e.event === 'message' && (JSON.parse(e.data) as MessageEvent).normalized.text === text,
      );
      const data = JSON.parse(event.data) as MessageEvent;
      expect(data).toMatchObject({ channel: 'kakao', kakaoPayload: payload, payload });
      await postReply(relay.url, agent.token, {
        messageId: data.id,
        response: textReply('인라인 답변'),
      }).expect(200);
      const answer = await pending;
      const rows = await rowsOfText(text);
      expect(rows).toEqual([
        expect.objectContaining({ channel: 'kakao', kakao_payload: payload, callback_url: null }),
      ]);
      return answer;
    });
    expect(answers.get(SHAPES[0].name)?.body).toEqual(textReply('인라인 답변'));
  });

  it('errors: a wrong secret (401), malformed JSON (400), a body over 1 MiB (413)', async () => {
    const good = JSON.stringify(userMessage('parity-user', 'parity refused'));
    const unauthorized = await expectSameAnswers(relay, security, (shape) =>
      send(relay, shape, good, { auth: true, wrongSecret: true }),
    );
    expect(unauthorized.get(SHAPES[0].name)).toMatchObject({
      status: 401,
      body: { statusCode: 401, code: 'INVALID_SKILL_SECRET' },
    });
    const malformed = await expectSameAnswers(relay, security, (shape) =>
      send(relay, shape, '{"userRequest":', { auth: true }),
    );
    expect(malformed.get(SHAPES[0].name)).toMatchObject({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_ERROR', message: 'The request body is not valid JSON.' },
    });
    const huge = JSON.stringify(kakaoPayload({ utterance: 'x'.repeat(1024 * 1024), userKey: 'parity-user' }));
    const tooLarge = await expectSameAnswers(relay, security, (shape) =>
      send(relay, shape, huge, { auth: true }),
    );
    expect(tooLarge.get(SHAPES[0].name)).toMatchObject({
      status: 413,
      body: { statusCode: 413, code: 'PAYLOAD_TOO_LARGE' },
    });
    expect(await rowsOfText('parity refused')).toEqual([]);
  });

  it('echoes a sane X-Request-Id on every shape, and makes one up otherwise', async () => {
    const text = JSON.stringify(kakaoPayload({ utterance: '/help', userKey: 'parity-user' }));
    for (const shape of SHAPES) {
      const given = await send(relay, shape, text, { auth: true, requestId: 'kakao-42' });
      expect({ shape: shape.name, id: given.headers['x-request-id'] }).toEqual({
        shape: shape.name,
        id: 'kakao-42',
      });
      const made = await send(relay, shape, text, { auth: true, requestId: 'bad id!' });
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('webhook: flood answered alike on every shape (e2e)', () => {
  let relay: RunningRelay;
  let security: Record<string, string>;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ WEBHOOK_USER_MESSAGES_PER_MINUTE: '1' });
    security = await helmetHeaders(relay);
  });
  afterAll(() => relay.close());

  it('flood: past the per-conversation limit the user is asked to slow down, nothing stored', async () => {
    const answers = await expectSameAnswers(relay, security, async (shape) => {
      const userKey = `parity-flood-${SHAPES.indexOf(shape)}`;
      // The first message of the minute (the pairing hint: the user is not paired) uses up the limit.
      const first = await send(relay, SHAPES[0], JSON.stringify(userMessage(userKey, 'first')));
      expect(first.status).toBe(200);
      return send(relay, shape, JSON.stringify(userMessage(userKey, 'parity flood')));
    });
    expect(answers.get(SHAPES[0].name)?.body).toEqual({
      version: '2.0',
      template: { outputs: [{ simpleText: { text: KO.slowDown } }] },
    });
    expect(await rowsOfText('parity flood')).toEqual([]);
  });
});

describe('webhook: overload answered alike on every shape (e2e)', () => {
  let relay: RunningRelay;
  let security: Record<string, string>;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ STORE_QUEUE_MAX: '1' });
    security = await helmetHeaders(relay);
  });
  afterAll(() => relay.close());

  it('overloaded: "temporarily unavailable" with Retry-After: 1, nothing stored', async () => {
    const agent = await pairAgent(relay.url, 'parity-queue');
    const json = { 'Content-Type': 'application/json' };
    const holder = new Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    let accepted: Array<Promise<unknown>> = [];
    try {
      // Hold the account row: the store's batch (which locks it) waits, and the next message fills the queue.
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM accounts WHERE id = $1 FOR UPDATE', [agent.accountId]);
      const first = request(relay.url)
        .post('/kakao/webhook')
        .set(json)
        .send(JSON.stringify(userMessage('parity-queue', 'accepted 1')));
      const firstDone = first.then((r) => r);
      await waitUntil(async () => {
        const [{ n }] = await sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        return n > 0;
      });
      const second = request(relay.url)
        .post('/kakao/webhook')
        .set(json)
        .send(JSON.stringify(userMessage('parity-queue', 'accepted 2')))
        .then((r) => r);
      const batcher = (
        relay.app.get(InboundMessagesRepository) as unknown as { batcher: { waiting: number } }
      ).batcher;
      await waitUntil(() => batcher.waiting === 1);
      accepted = [firstDone, second];
      const answers = await expectSameAnswers(relay, security, (shape) =>
        send(relay, shape, JSON.stringify(userMessage('parity-queue', `parity overloaded ${shape.name}`))),
      );
      expect(answers.get(SHAPES[0].name)).toMatchObject({
        status: 200,
        body: { version: '2.0', template: { outputs: [{ simpleText: { text: KO.unavailable } }] } },
        headers: { 'retry-after': '1' },
      });
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
    }
    await Promise.all(accepted);
    const [{ n }] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM inbound_messages WHERE normalized->>'text' LIKE 'parity overloaded%'`,
    );
    expect(n).toBe(0);
  });
});
