import { createHash, createHmac } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { KO, type SkillResponse } from '@app/core';
import {
  createSession,
  CreatedSession,
  FakeKakao,
  kakaoPayload as fixturePayload,
  loadFixture,
  pairAgent,
  PairedAgent,
  resetState,
  RunningRelay,
  sendMessage,
  sql,
  SseClient,
  SseEvent,
  startRelay,
  TEST_REDIS_PREFIX,
  textOf,
  userMessage,
  waitUntil,
} from '@app/testing';
import { PubSubService, RedisService } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { StreamHub } from '../apps/relay/src/events/stream-hub.service';
import { bogusAuthorizations, oddButValidAuthorizations, SEGMENT_PIECES } from './support/fuzz/catalogue';
import { expected, rowCounts, RowCounts } from './support/fuzz/db';
import {
  FuzzRequest,
  FuzzResponse,
  openStreams,
  runPool,
  send,
  sendRaw,
  streamStats,
} from './support/fuzz/http-client';
import {
  allPaths,
  DELETE,
  deepArrayText,
  deepObjectText,
  entries,
  hostileValues,
  HostileValue,
  JsonPath,
  pathLabel,
  randomJson,
  raw,
  RawJson,
  toJsonText,
  withAt,
} from './support/fuzz/json-text';
import { fuzzSeed, Prng } from './support/fuzz/prng';
import { Expectation, Recorder } from './support/fuzz/recorder';
import { StalledStream } from './support/stalled-stream';

let fixtureCallbacks = 0;
/**
 * The fixture payload with a callback URL both relays of this suite allow (the webhook refuses any other with
 * 400): the fixture's own `bot-api.kakao.com` is not in their KAKAO_CALLBACK_ALLOWED_HOSTS.
 */
function kakaoPayload(options: Parameters<typeof fixturePayload>[0] = {}) {
  fixtureCallbacks += 1;
  return fixturePayload({
    callbackUrl: `http://127.0.0.1/v1/callback/fuzz-fixture-${process.pid}-${fixtureCallbacks}`,
    ...options,
  });
}

/*
 * Fuzz e2e: well over a thousand generated malformed or hostile requests against every public and agent
 * endpoint, from a seeded PRNG (FUZZ_SEED replays a run). Each phase checks, for every answer: no 5xx, no hang,
 * the uniform error body on every non-2xx JSON answer, the status the contract gives where it gives one; and
 * afterwards that the database moved by exactly what the accepted requests explain (nothing at all for phases
 * of rejected requests), that the process still answers /health and that Object.prototype was not polluted.
 * The stream-limits phase plays hostile stream clients against a relay of its own with small caps, and checks
 * that no limit loses an accepted message: every stream it closes resumes with Last-Event-ID and gets the rest.
 */

const SEED = fuzzSeed();
const SKILL_SECRET = 'fuzz-skill-secret-0123';
const SIGNATURE_SECRET = 'fuzz-signature-secret-0123';
const JSON_TYPE = { 'Content-Type': 'application/json' };
const SETTLE_MS = 300;

const EP = {
  health: 'GET /health',
  ready: 'GET /health/ready',
  root: 'GET /',
  webhook: 'POST /kakao/webhook',
  create: 'POST /v1/sessions/create',
  status: 'GET /v1/sessions/{token}/status',
  events: 'GET /v1/events',
  reply: 'POST /openclaw/reply',
} as const;

interface Job {
  endpoint: string;
  label: string;
  req?: FuzzRequest;
  raw?: Buffer;
  expect?: Expectation;
  target?: 'main' | 'secured';
  after?: (res: FuzzResponse, json: unknown) => void;
}

/** A PRNG per phase, so one phase can be replayed alone (`-t`) with the same inputs. */
function phaseRng(phase: string): Prng {
  const h = createHash('sha256').update(`${SEED}:${phase}`).digest();
  return new Prng(h.readUInt32LE(0));
}

/** Whether every string (and key) of a JSON body is storable text: no U+0000, no unpaired surrogate. */
function storableText(body: Buffer | string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString());
  } catch {
    return true;
  }
  const stack: unknown[] = [parsed];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000') || !value.isWellFormed()) return false;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000') || !key.isWellFormed()) return false;
        stack.push(item);
      }
    }
  }
  return true;
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(toJsonText(value), 'utf8');
}

/** A webhook 200 must be a SkillResponse and must not be the relay's "temporarily unavailable" apology. */
function webhookOk(_res: FuzzResponse, json: unknown): string | null {
  const text = textOf(json as SkillResponse);
  if (text === KO.unavailable)
    return 'webhook swallowed an internal error ("일시적으로 서비스를 이용할 수 없습니다")';
  return null;
}

function replyAcceptedOk(_res: FuzzResponse, json: unknown): string | null {
  const body = json as { success?: unknown; status?: unknown; replyId?: unknown };
  if (body?.success !== true || body.status !== 'accepted' || typeof body.replyId !== 'string') {
    return `unexpected reply answer ${JSON.stringify(json)?.slice(0, 120)}`;
  }
  return null;
}

function healthOk(_res: FuzzResponse, json: unknown): string | null {
  const body = json as { status?: unknown; timestamp?: unknown };
  return body?.status === 'ok' && typeof body.timestamp === 'number'
    ? null
    : 'health body is not {status:"ok",timestamp}';
}

function sseOk(res: FuzzResponse): string | null {
  if (!String(res.headers['content-type']).startsWith('text/event-stream'))
    return 'stream without text/event-stream';
  const first = res.sseFirstBlock ?? '';
  // A stream the fuzzer opened concurrently with more than MAX_STREAMS_PER_TOKEN others may be replaced first.
  const replaced = /^id: \d+\nevent: error\ndata: \{"code":"STREAM_REPLACED",.*\}\n\n$/.test(first);
  if (!replaced && !/^id: \d+\nevent: connected\ndata: \{.*\}\n\n$/.test(first)) {
    return `first event is not "connected" framed per contract: ${JSON.stringify(first.slice(0, 200))}`;
  }
  return null;
}

function createdOk(_res: FuzzResponse, json: unknown): string | null {
  const b = json as Record<string, unknown>;
  const ok =
    typeof b?.sessionToken === 'string' &&
    /^[0-9a-f]{64}$/.test(b.sessionToken) &&
    typeof b.pairingCode === 'string' &&
    /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/.test(b.pairingCode) &&
    typeof b.expiresIn === 'number' &&
    b.status === 'pending_pairing';
  return ok ? null : `create answered 200 with ${JSON.stringify(json)?.slice(0, 160)}`;
}

/** The string a fuzz value stands for (a raw JSON string literal included), or null if it is not one. */
function valueString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof RawJson) {
    try {
      const parsed: unknown = JSON.parse(value.text);
      return typeof parsed === 'string' ? parsed : null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * What the webhook must do with a payload where the node at `path` was replaced (single mutation): the relay
 * validates userRequest{utterance ≤10000, user{id 1..256, properties?: object{plusfriendUserKey: ≤256 when a
 * string}}, callbackUrl?: a URL the callback policy allows, ≤1 KiB} and bot?{id?: ≤256}; everything else is
 * passed through untouched. No hostile value is an allowed callback URL.
 */
function webhookVerdict(path: JsonPath, h: HostileValue | 'deleted'): 'accept' | 'reject' {
  const p = pathLabel(path);
  const kind = h === 'deleted' ? 'deleted' : h.kind;
  const str = h === 'deleted' ? null : valueString(h.value);
  const len = str === null ? -1 : [...str].length;
  switch (p) {
    case 'userRequest':
    case 'userRequest.user':
      return 'reject';
    case 'userRequest.utterance':
      return str !== null && len <= 10000 ? 'accept' : 'reject';
    case 'userRequest.user.id':
      return str !== null && len >= 1 && len <= 256 ? 'accept' : 'reject';
    case 'userRequest.user.properties':
    case 'bot':
      return kind === 'object' || kind === 'null' || kind === 'deleted' ? 'accept' : 'reject';
    case 'userRequest.callbackUrl':
      return kind === 'null' || kind === 'deleted' ? 'accept' : 'reject';
    case 'bot.id':
      return kind === 'null' || kind === 'deleted' || (str !== null && len <= 256) ? 'accept' : 'reject';
    default:
      return 'accept';
  }
}

/** Same for the reply body `{messageId, response}` (messageId a UUID, response an object with version "2.0"). */
function replyVerdict(path: JsonPath): 'accept' | 'reject' {
  const p = pathLabel(path);
  if (p === 'messageId' || p === 'response' || p === 'response.version') return 'reject';
  return 'accept';
}

/** `Last-Event-ID`s of a hostile client: numbers, junk, out of range (junk counts as absent). */
const ODD_LAST_EVENT_IDS = [
  '',
  '0',
  '1',
  '-1',
  'x',
  ' 2 ',
  '1e3',
  '0x10',
  'NaN',
  '9'.repeat(15),
  '9'.repeat(30),
];

/** A user message of about `kib` KiB: an extra top-level field the relay stores and forwards as received. */
function paddedMessage(userKey: string, text: string, kib: number) {
  const payload = userMessage(userKey, text);
  (payload as unknown as { padding: string }).padding = 'x'.repeat(kib * 1024);
  return payload;
}

interface SeenMessage {
  id: number;
  text: string;
}

/** The message events of an SseClient, or what `StalledStream.drain()` answers (message events, no `event` field). */
function seenOf(events: Array<{ id?: string | number; event?: string; data: string }>): SeenMessage[] {
  return events
    .filter((e) => e.event === undefined || e.event === 'message')
    .map((e) => ({
      id: Number(e.id),
      text: (JSON.parse(e.data) as { normalized: { text: string } }).normalized.text,
    }));
}

function lastMessageId(stream: SseClient): number {
  const messages = stream.events.filter((e: SseEvent) => e.event === 'message');
  return Number(messages.at(-1)?.id ?? 0);
}

/** Why `got` is not exactly the messages 1..n (texts `texts`), each once and in order; null when it is. */
function sequenceProblem(got: SeenMessage[], texts: string[]): string | null {
  const ids = got.map((g) => g.id).join(',');
  for (let i = 0; i < Math.max(got.length, texts.length); i++) {
    if (got[i]?.id !== i + 1) return `ids [${ids.slice(0, 200)}] are not 1..${texts.length}`;
    if (got[i].text !== texts[i]) {
      return `message ${i + 1} reads ${JSON.stringify(got[i].text)}, not ${JSON.stringify(texts[i])}`;
    }
  }
  return null;
}

async function metricValue(relay: RunningRelay, name: string, labels = ''): Promise<number> {
  const text = await relay.app.get(RelayMetrics).registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Entries in the relay's cluster-wide stream slots (`kind` addr: per client address; cred: per credential). */
/**
 * Open-stream entries in Redis (per credential and per address; the `replaced` sets are tombstones that expire
 * with their key, not places).
 */
async function slotEntries(relay: RunningRelay, kind: 'addr' | 'cred' | '*' = '*'): Promise<number> {
  const redis = relay.app.get(RedisService);
  const kinds = kind === '*' ? ['addr', 'cred'] : [kind];
  const keys = (
    await Promise.all(kinds.map((k) => redis.command.keys(redis.key('stream-slots', k, '*'))))
  ).flat();
  let n = 0;
  for (const key of keys) n += await redis.command.zcard(key);
  return n;
}

/** Whether `check` came true in time (a finding, not an exception, when it did not). */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<boolean> {
  try {
    await waitUntil(check, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

describe('fuzz: malformed and hostile requests against every endpoint (e2e)', () => {
  const recorder = new Recorder();
  let relay: RunningRelay;
  let secured: RunningRelay;
  let kakao: FakeKakao;
  let agentA: PairedAgent;
  let agentB: PairedAgent;
  let pending: CreatedSession;
  let bait: CreatedSession;
  let messagesA: string[] = [];
  let messagesB: string[] = [];
  let protoBaseline: string[] = [];
  const startedAt = Date.now();

  async function runJobs(phase: string, jobs: Job[], concurrency = 6): Promise<void> {
    await runPool(jobs, concurrency, async (job) => {
      const port = job.target === 'secured' ? secured.port : relay.port;
      const res = job.raw ? await sendRaw(port, job.raw) : await send(port, job.req!);
      const json = recorder.check({
        phase,
        endpoint: job.endpoint,
        label: job.label,
        res,
        expect: job.expect,
      });
      job.after?.(res, json);
    });
  }

  /**
   * Every finding of the phase, the exact row counts and any phase-specific facts (`[actual, expected]`), in one
   * assertion: a failure shows all of them.
   */
  async function expectPhase(
    phase: string,
    before: RowCounts,
    delta: Partial<RowCounts>,
    minRequests: number,
    facts: Record<string, [unknown, unknown]> = {},
  ) {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = await rowCounts();
    const actualFacts = Object.fromEntries(Object.entries(facts).map(([k, [a]]) => [k, a]));
    const expectedFacts = Object.fromEntries(Object.entries(facts).map(([k, [, e]]) => [k, e]));
    expect({
      findings: recorder.summarize(recorder.violationsOf(phase)),
      rows: after,
      ...actualFacts,
    }).toEqual({ findings: [], rows: expected(before, delta), ...expectedFacts });
    expect(recorder.count(phase)).toBeGreaterThanOrEqual(minRequests);
  }

  beforeAll(async () => {
    console.log(`fuzz seed: ${SEED} (0x${SEED.toString(16)}); replay with FUZZ_SEED=${SEED}`);
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelay({
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
      INLINE_REPLY_TIMEOUT_MS: '200',
      // Deep fuzzing of validation, not of the limits: the limits must not turn every request into a 429.
      RATE_LIMIT_REPLIES_PER_MINUTE: '100000',
      WEBHOOK_USER_MESSAGES_PER_MINUTE: '100000',
      RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '100000',
      RATE_LIMIT_SESSION_STATUS_PER_MINUTE: '100000',
      RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE: '100000',
    });
    secured = await startRelay({
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
      KAKAO_SKILL_SECRET: SKILL_SECRET,
      KAKAO_SIGNATURE_SECRET: SIGNATURE_SECRET,
      WORKER_IN_PROCESS: 'false',
    });
    agentA = await pairAgent(relay.url, 'fuzz-agent-a');
    agentB = await pairAgent(relay.url, 'fuzz-agent-b');
    pending = await createSession(relay.url);
    bait = await createSession(relay.url);
    for (let i = 0; i < 12; i++) {
      await sendMessage(relay.url, userMessage(agentA.userKey, `질문 ${i}`, kakao.callbackUrl()));
    }
    for (let i = 0; i < 3; i++) {
      await sendMessage(relay.url, userMessage(agentB.userKey, `question ${i}`, kakao.callbackUrl()));
    }
    const ids = async (accountId: string) =>
      (
        await sql<{ id: string }>('SELECT id FROM inbound_messages WHERE account_id = $1 ORDER BY seq', [
          accountId,
        ])
      ).map((r) => r.id);
    messagesA = await ids(agentA.accountId);
    messagesB = await ids(agentB.accountId);
    expect(messagesA).toHaveLength(12);
    expect(messagesB).toHaveLength(3);
    protoBaseline = Object.getOwnPropertyNames(Object.prototype).sort();
  }, 60_000);

  afterEach(async () => {
    // Between phases: the relay still answers its liveness check, and no request polluted Object.prototype.
    const health = await send(relay.port, { method: 'GET', path: '/health' });
    expect(health.status).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBaseline);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  afterAll(async () => {
    for (const socket of openStreams) socket.destroy();
    await secured?.close();
    await relay?.close();
    await kakao?.close();
    console.log(
      `fuzz seed ${SEED}: ${recorder.total} requests in ${((Date.now() - startedAt) / 1000).toFixed(1)} s, ` +
        `${streamStats.opened} event streams opened and closed, ${recorder.violations.length} findings\n` +
        recorder.table(),
    );
  });

  it('health, root and every route under methods and paths it does not take', async () => {
    const phase = 'routes';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    for (const a of bogusAuthorizations(agentA.token, rng).slice(0, 20)) {
      jobs.push({
        endpoint: EP.health,
        label: `Authorization: ${a.label}`,
        req: { method: 'GET', path: '/health', headers: { Authorization: a.value } },
        expect: { allowed: [200], ok: healthOk },
      });
    }
    const requestIds = [
      'a'.repeat(101),
      '../../x',
      '<script>',
      'abc def',
      '%0d%0aX-Injected:%201',
      '\u00ff\u00fe',
    ];
    for (const id of requestIds) {
      jobs.push({
        endpoint: EP.health,
        label: `X-Request-Id: ${id.slice(0, 20)}`,
        req: { method: 'GET', path: '/health', headers: { 'X-Request-Id': id } },
        expect: {
          allowed: [200],
          ok: (res, json) =>
            healthOk(res, json) ??
            (/^[A-Za-z0-9._-]{1,100}$/.test(String(res.headers['x-request-id']))
              ? null
              : 'unsafe X-Request-Id echoed'),
        },
      });
    }
    const healthQueries = [
      '?token=abc',
      '?%ff=%fe',
      '?a[b][c]=1',
      `?${'x=1&'.repeat(1500)}`,
      '?__proto__[polluted]=1',
      '?constructor[prototype][polluted]=1',
      '?__proto__.polluted=1',
      '?%',
    ];
    for (const q of healthQueries) {
      jobs.push({
        endpoint: EP.health,
        label: `query ${q.slice(0, 30)}`,
        req: { method: 'GET', path: `/health${q}` },
        expect: { allowed: [200], ok: healthOk },
      });
    }
    for (const p of [
      '/health/',
      '/HEALTH',
      '//health',
      '/health/..',
      '/%68ealth',
      '/health;x',
      '/health/%2e%2e/health',
    ]) {
      jobs.push({ endpoint: 'GET /health (path variant)', label: p, req: { method: 'GET', path: p } });
    }
    const readyHeaders: Array<Record<string, string>> = [
      {},
      { Authorization: `Bearer ${agentA.token}` },
      { Accept: 'text/event-stream' },
    ];
    for (const headers of readyHeaders) {
      jobs.push({
        endpoint: EP.ready,
        label: `headers ${Object.keys(headers).join(',') || 'none'}`,
        req: { method: 'GET', path: '/health/ready', headers },
        expect: { allowed: [200] },
      });
      jobs.push({
        endpoint: EP.root,
        label: `headers ${Object.keys(headers).join(',') || 'none'}`,
        req: { method: 'GET', path: '/', headers },
        expect: { allowed: [302] },
      });
    }
    jobs.push({
      endpoint: 'HEAD /health',
      label: 'HEAD',
      req: { method: 'HEAD', path: '/health' },
      expect: { allowed: [200] },
    });
    jobs.push({
      endpoint: 'HEAD /',
      label: 'HEAD',
      req: { method: 'HEAD', path: '/' },
      expect: { allowed: [302] },
    });
    jobs.push({
      endpoint: 'HEAD /v1/events',
      label: 'HEAD',
      req: { method: 'HEAD', path: '/v1/events' },
      expect: { allowed: [401] },
    });

    const routes: Array<{ path: string; takes: string[] }> = [
      { path: '/health', takes: ['GET', 'HEAD'] },
      { path: '/health/ready', takes: ['GET', 'HEAD'] },
      { path: '/', takes: ['GET', 'HEAD'] },
      { path: `/v1/sessions/${pending.sessionToken}/status`, takes: ['GET', 'HEAD'] },
      { path: '/v1/events', takes: ['GET', 'HEAD'] },
      { path: '/kakao/webhook', takes: ['POST'] },
      { path: '/openclaw/reply', takes: ['POST'] },
      { path: '/v1/sessions/create', takes: ['POST'] },
    ];
    const bodies: Array<{ label: string; headers: Record<string, string>; body?: Buffer }> = [
      { label: 'no body', headers: {} },
      {
        label: 'JSON body',
        headers: JSON_TYPE,
        body: jsonBody({ messageId: rng.uuid(), response: { version: '2.0' } }),
      },
      { label: 'text/plain body', headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('hello') },
      { label: 'broken JSON', headers: JSON_TYPE, body: Buffer.from('{"a":') },
    ];
    for (const route of routes) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
        if (route.takes.includes(method)) continue;
        const body = rng.pick(bodies);
        jobs.push({
          endpoint: `${method} ${route.path.startsWith('/v1/sessions/') && route.path !== '/v1/sessions/create' ? '/v1/sessions/{token}/status' : route.path}`,
          label: `${method} with ${body.label}`,
          req: {
            method,
            path: route.path,
            headers: { ...body.headers, Authorization: `Bearer ${agentA.token}` },
            body: method === 'GET' || method === 'TRACE' ? undefined : body.body,
          },
          // 404 (no such route); the body middleware may answer first: 400 / 415; OPTIONS may be answered.
          expect: { allowed: method === 'OPTIONS' ? [200, 204, 400, 404, 405, 415] : [400, 404, 405, 415] },
        });
      }
    }
    // GET routes given a body they do not want.
    for (const path of ['/health', '/health/ready', '/v1/events', `/v1/sessions/${rng.hex(64)}/status`]) {
      for (const body of bodies.slice(1)) {
        jobs.push({
          endpoint: `GET ${path.startsWith('/v1/sessions/') ? '/v1/sessions/{token}/status' : path} (with a body)`,
          label: body.label,
          req: { method: 'GET', path, headers: body.headers, body: body.body },
        });
      }
    }
    jobs.push({
      endpoint: 'POST /health',
      label: '300 KiB JSON body',
      req: {
        method: 'POST',
        path: '/health',
        headers: JSON_TYPE,
        body: jsonBody({ a: 'x'.repeat(300 * 1024) }),
      },
      expect: { allowed: [404, 413] },
    });
    await runJobs(phase, jobs);
    await expectPhase(phase, before, {}, 100);
  }, 60_000);

  it('the status URL token segment: traversal, encodings, NUL, unicode, very long', async () => {
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

  it('the agent stream: bogus Authorization, ?token=, Last-Event-ID; successful streams are closed', async () => {
    const phase = 'events';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const t = agentA.token;
    const unauthorized: Expectation = {
      allowed: [401, 429],
      codes: ['TOKEN_MISSING', 'INVALID_TOKEN', 'SESSION_EXPIRED', 'SESSION_DISCONNECTED', 'RATE_LIMITED'],
    };
    const streamOk: Expectation = { allowed: [200], ok: (res) => sseOk(res) };
    for (const a of bogusAuthorizations(t, rng)) {
      jobs.push({
        endpoint: EP.events,
        label: `Authorization: ${a.label}`,
        req: { method: 'GET', path: '/v1/events', headers: { Authorization: a.value } },
        expect: unauthorized,
      });
      jobs.push({
        endpoint: EP.events,
        label: `Authorization: ${a.label} + Last-Event-ID`,
        req: {
          method: 'GET',
          path: '/v1/events',
          headers: { Authorization: a.value, 'Last-Event-ID': rng.pick(['5', '-1', 'x', '9'.repeat(30)]) },
        },
        expect: unauthorized,
      });
    }
    for (let i = 0; i < 20; i++) {
      const junk = rng.chance(0.5)
        ? [...rng.bytes(rng.int(1, 60)).toString('latin1')].filter((c) => c >= ' ' && c !== '\u007f').join('')
        : rng.hex(rng.int(0, 128));
      jobs.push({
        endpoint: EP.events,
        label: `random Authorization ${i}`,
        req: { method: 'GET', path: '/v1/events', headers: { Authorization: `Bearer ${junk}` } },
        expect: unauthorized,
      });
    }
    jobs.push({
      endpoint: 'HEAD /v1/events',
      label: 'HEAD with a valid token',
      req: { method: 'HEAD', path: '/v1/events', headers: { Authorization: `Bearer ${t}` } },
      expect: { allowed: [200, 404, 405] },
    });
    for (const a of oddButValidAuthorizations(t)) {
      jobs.push({
        endpoint: EP.events,
        label: `Authorization: ${a.label}`,
        req: { method: 'GET', path: '/v1/events', headers: { Authorization: a.value } },
        expect: streamOk,
      });
    }
    const queries: Array<[string, string, Expectation]> = [
      ['?token=<valid>', `?token=${t}`, streamOk],
      ['?token=<pending>', `?token=${pending.sessionToken}`, streamOk],
      ['token twice', `?token=${t}&token=${t}`, unauthorized],
      ['empty token', '?token=', unauthorized],
      ['token[]', `?token[]=${t}`, unauthorized],
      ['token[a]', `?token[a]=${t}`, unauthorized],
      ['leading space', `?token=%20${t}`, unauthorized],
      ['trailing %00', `?token=${t}%00`, unauthorized],
      ['TOKEN', `?TOKEN=${t}`, unauthorized],
      ['upper-case value', `?token=${t.toUpperCase()}`, unauthorized],
      ['access_token', `?access_token=${t}`, unauthorized],
      ['%ff junk', `?token=${'%ff'.repeat(10)}`, unauthorized],
      ['lone %', '?token=%', unauthorized],
      ['10 KiB', `?token=${'a'.repeat(10240)}`, unauthorized],
      ['__proto__', `?__proto__[token]=${t}`, unauthorized],
      ['unknown hex', `?token=${rng.hex(64)}`, unauthorized],
    ];
    for (const [label, q, exp] of queries) {
      jobs.push({
        endpoint: EP.events,
        label: `query ${label}`,
        req: { method: 'GET', path: `/v1/events${q}` },
        expect: exp,
      });
    }
    jobs.push({
      endpoint: EP.events,
      label: 'bogus header wins over a valid ?token=',
      req: {
        method: 'GET',
        path: `/v1/events?token=${t}`,
        headers: { Authorization: `Bearer ${rng.hex(64)}` },
      },
      expect: unauthorized,
    });
    jobs.push({
      endpoint: EP.events,
      label: 'non-Bearer header, valid ?token=',
      req: { method: 'GET', path: `/v1/events?token=${t}`, headers: { Authorization: 'Basic eDp5' } },
      expect: streamOk,
    });
    const lastEventIds = [
      '',
      '-1',
      '0',
      '1e3',
      '0x10',
      '1.5',
      'NaN',
      'Infinity',
      ' 7 ',
      '\u0663',
      '99999999999999999999',
      '9'.repeat(15),
      '9'.repeat(16),
      'null',
      '{"a":1}',
      '1'.repeat(10240),
      '1,2',
      '\u00ff',
      '../../1',
    ];
    for (const id of lastEventIds) {
      jobs.push({
        endpoint: EP.events,
        label: `valid token, Last-Event-ID ${JSON.stringify(id.slice(0, 20))}`,
        req: {
          method: 'GET',
          path: '/v1/events',
          headers: { Authorization: `Bearer ${t}`, 'Last-Event-ID': id },
        },
        expect: streamOk,
      });
    }
    jobs.push({
      endpoint: EP.events,
      label: 'paired B, Last-Event-ID 1',
      req: {
        method: 'GET',
        path: '/v1/events',
        headers: { Authorization: `Bearer ${agentB.token}`, 'Last-Event-ID': '1' },
      },
      expect: streamOk,
    });
    await runJobs(phase, jobs);
    // Every stream that succeeded was closed by the client, and the relay let go of it too.
    const hub = relay.app.get(StreamHub);
    const deadline = Date.now() + 5000;
    while ((openStreams.size > 0 || hub.size > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect({ clientOpen: openStreams.size, relayOpen: hub.size }).toEqual({ clientOpen: 0, relayOpen: 0 });
    expect(streamStats.opened).toBeGreaterThanOrEqual(20);
    await expectPhase(phase, before, {}, 150);
  }, 60_000);

  it('the webhook: malformed bodies, content types, invalid UTF-8, huge and deeply nested payloads', async () => {
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

  it('agent replies that must all be refused: bad auth, malformed bodies, bad ids, foreign ids (no rows)', async () => {
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

  it('POST /v1/sessions/create: bodies and content types it takes or refuses, sessions counted exactly', async () => {
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

  it('raw sockets: CR/LF header injection, overlong headers, bad framing, invalid bytes, odd request lines', async () => {
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

  it('hostile stream clients: bursts past the token cap, a full address, non-reading and aborted streams; nothing accepted is lost', async () => {
    const phase = 'stream-limits';
    const rng = phaseRng(phase);
    const TOKEN_CAP = 3;
    const IP_CAP = 8;
    // Its own relay and Redis namespace: small limits, and a heartbeat that re-checks slots every second.
    const hostile = await startRelay({
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-hostile`,
      MAX_STREAMS_PER_TOKEN: String(TOKEN_CAP),
      MAX_STREAMS_PER_IP: String(IP_CAP),
      STREAM_MAX_BUFFER_BYTES: String(64 * 1024),
      SSE_HEARTBEAT_SECONDS: '1',
    });
    const hub = hostile.app.get(StreamHub);
    const pubsub = hostile.app.get(PubSubService);
    const clients: Array<SseClient | StalledStream> = [];
    const finding = (label: string, problem: string, body = '') =>
      recorder.violations.push({ phase, endpoint: EP.events, label, problem, status: 0, body });
    const tooMany: Expectation = { allowed: [429], codes: ['TOO_MANY_STREAMS'] };
    const streamOk: Expectation = { allowed: [200], ok: (res) => sseOk(res) };

    /** Opens a stream and checks its answer: the first event of a 200, the whole body of anything else. */
    async function openChecked(
      label: string,
      token: string,
      expect: Expectation,
      options: { query?: boolean; lastEventId?: string | number } = {},
    ): Promise<SseClient | null> {
      let stream: SseClient;
      try {
        stream = await SseClient.connect(hostile.url, {
          token,
          tokenInQuery: options.query,
          lastEventId: options.lastEventId,
        });
      } catch (e) {
        const error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        const res = { status: 0, headers: {}, body: Buffer.alloc(0), text: '', timedOut: false, raw: false };
        recorder.check({ phase, endpoint: EP.events, label, res: { ...res, ms: 0, error }, expect });
        return null;
      }
      clients.push(stream);
      // Awaited event by event, not polled: a resuming client may drop the stream right after its first events.
      const answered = await Promise.race([
        ...(stream.status === 200 ? [stream.waitFor(() => true, 5000)] : []),
        stream.waitForEnd(5000),
      ]).then(
        () => true,
        () => false,
      );
      const text = stream.body;
      const first = text.indexOf('\n\n');
      const json = recorder.check({
        phase,
        endpoint: EP.events,
        label,
        expect,
        res: {
          status: stream.status,
          headers: stream.headers,
          body: Buffer.from(text),
          text,
          timedOut: !answered,
          raw: false,
          ms: 0,
          sseFirstBlock: stream.status === 200 && first >= 0 ? text.slice(0, first + 2) : undefined,
        },
      });
      if (stream.status === 429) {
        const keys = Object.keys((json ?? {}) as object).sort();
        if (keys.join(',') !== 'code,message,statusCode')
          finding(label, `429 body keys ${keys.join(',')}`, text);
        if (!(Number(stream.headers['retry-after']) >= 1)) finding(label, '429 without Retry-After', text);
      }
      if (stream.status !== 200) stream.close();
      return stream;
    }

    /** Closes what is open and waits until the relay let go of every stream and every slot. */
    async function closeAll(step: string): Promise<void> {
      for (const c of clients.splice(0)) {
        if (c instanceof SseClient) c.close();
        else c.destroy();
      }
      const released = await eventually(async () => hub.size === 0 && (await slotEntries(hostile)) === 0);
      if (!released)
        finding(step, `${hub.size} streams / ${await slotEntries(hostile)} slots left after closing`);
    }

    /**
     * Resumes with Last-Event-ID = the last id seen until all `total` messages arrived (at most 4 attempts, each
     * making progress: a resumed reading stream may itself be closed when one replay page exceeds the limit).
     */
    async function resumeAll(
      token: string,
      got: SeenMessage[],
      total: number,
      label: string,
    ): Promise<number> {
      let attempts = 0;
      while ((got.at(-1)?.id ?? 0) < total && attempts < 4) {
        attempts += 1;
        const last = got.at(-1)?.id ?? 0;
        const stream = await openChecked(`${label}: resume after ${last}`, token, streamOk, {
          lastEventId: last,
        });
        if (stream?.status !== 200) return attempts;
        await eventually(() => stream.ended || lastMessageId(stream) >= total, 10000);
        stream.close();
        got.push(...seenOf(stream.events));
        if ((got.at(-1)?.id ?? 0) <= last) {
          finding(label, `resume after ${last} brought nothing new`);
          return attempts;
        }
      }
      return attempts;
    }

    try {
      const baselineChannels = pubsub.subscribedChannelCount;
      const agents: PairedAgent[] = [];
      for (const name of ['burst-a', 'burst-b', 'slow-0', 'slow-1', 'replay']) {
        agents.push(await pairAgent(hostile.url, `fuzz-hostile-${name}`));
      }
      const pendings = [await createSession(hostile.url), await createSession(hostile.url)];
      const before = await rowCounts();
      let sent = 0;
      for (let i = 1; i <= 2; i++) {
        await sendMessage(hostile.url, userMessage(agents[0].userKey, `burst backlog ${i}`));
        sent += 1;
      }
      const tokens = [
        { label: 'paired A', token: agents[0].token },
        { label: 'paired B', token: agents[1].token },
        { label: 'pending 1', token: pendings[0].sessionToken },
        { label: 'pending 2', token: pendings[1].sessionToken },
      ];

      // 1. Bursts past the token cap, at once and one after another: every stream starts with `connected` (or is
      //    replaced first), exactly the cap stays open, and every other one ends with STREAM_REPLACED.
      for (let round = 0; round < 4; round++) {
        const who = rng.pick(tokens.slice(0, 3));
        const size = rng.int(TOKEN_CAP + 1, TOKEN_CAP + 4);
        const together = round === 0 || (round !== 1 && rng.chance(0.5));
        const step = `burst ${round}: ${size} × ${who.label}${together ? ' at once' : ' in a row'}`;
        const specs = Array.from({ length: size }, (_, i) => ({
          label: `${step} #${i}`,
          query: rng.chance(0.3),
          lastEventId: rng.chance(0.4) ? rng.pick(ODD_LAST_EVENT_IDS) : undefined,
        }));
        const open = (s: (typeof specs)[number]) =>
          openChecked(`${s.label}${s.query ? ' ?token=' : ''}`, who.token, streamOk, s);
        const streams: Array<SseClient | null> = [];
        if (together) streams.push(...(await Promise.all(specs.map(open))));
        else for (const s of specs) streams.push(await open(s));
        const opened = streams.filter((s): s is SseClient => s !== null && s.status === 200);
        await eventually(() => opened.filter((s) => !s.ended).length <= TOKEN_CAP);
        const live = opened.filter((s) => !s.ended).length;
        if (live !== TOKEN_CAP) finding(step, `${live} streams of one token open after the burst`);
        for (const s of opened.filter((x) => x.ended)) {
          const last = s.events.at(-1);
          if (last?.event !== 'error' || !last.data.includes('"code":"STREAM_REPLACED"')) {
            finding(step, 'a stream ended without STREAM_REPLACED as its last event', s.body.slice(-300));
          }
        }
        if (!together) {
          // In a row, the replaced ones are exactly the oldest.
          const ended = opened.map((s) => s.ended);
          const expected = opened.map((_, i) => i < opened.length - TOKEN_CAP);
          if (ended.join() !== expected.join())
            finding(step, `ended ${ended.join()}, expected ${expected.join()}`);
        }
        await closeAll(step);
      }

      // 2. One address past MAX_STREAMS_PER_IP across several tokens, against a model of what must be open:
      //    refusals are 429 TOO_MANY_STREAMS, a token at its own cap replaces its oldest even from a full address,
      //    and a closed stream gives its place back.
      const held = new Map(tokens.map((t) => [t.label, [] as SseClient[]]));
      let open = 0;
      let refused = 0;
      let replacedFull = 0;
      const openOne = async (who: (typeof tokens)[number], step: string) => {
        const list = held.get(who.label) as SseClient[];
        const replaces = list.length >= TOKEN_CAP;
        const expectRefusal = !replaces && open >= IP_CAP;
        const label = `${step}: ${who.label} (${open} open, ${list.length} of its own)`;
        const s = await openChecked(label, who.token, expectRefusal ? tooMany : streamOk, {
          query: rng.chance(0.3),
        });
        if (s?.status === 429) refused += 1;
        if (s?.status !== 200) return;
        if (replaces) {
          if (open >= IP_CAP) replacedFull += 1;
          const oldest = list.shift() as SseClient;
          const ended = await eventually(() => oldest.ended);
          if (!ended || oldest.events.at(-1)?.event !== 'error')
            finding(label, 'the oldest stream was not replaced');
        } else open += 1;
        list.push(s);
      };
      const closeOne = async (step: string) => {
        const owners = [...held.values()].filter((l) => l.length > 0);
        const list = rng.pick(owners);
        const [victim] = list.splice(rng.int(0, list.length - 1), 1);
        victim.close();
        open -= 1;
        if (!(await eventually(async () => (await slotEntries(hostile, 'addr')) === open))) {
          finding(
            step,
            `a closed stream did not give its place back (${await slotEntries(hostile, 'addr')} ≠ ${open})`,
          );
        }
      };
      const steps = rng.int(16, 22);
      for (let i = 0; i < steps; i++) {
        if (open > 0 && rng.chance(0.2)) await closeOne(`address step ${i} close`);
        else await openOne(rng.pick(tokens), `address step ${i}`);
      }
      const underCap = () => tokens.filter((t) => (held.get(t.label) as SseClient[]).length < TOKEN_CAP);
      for (let i = 0; i < IP_CAP && open < IP_CAP; i++) await openOne(rng.pick(underCap()), 'address fill');
      await openOne(rng.pick(underCap()), 'address full');
      const atCap = tokens.filter((t) => (held.get(t.label) as SseClient[]).length >= TOKEN_CAP);
      if (atCap.length > 0) await openOne(rng.pick(atCap), 'address full, token at its cap');
      await closeOne('address full, close one');
      await openOne(rng.pick(underCap()), 'address place given back');
      await closeAll('address cap');

      // 3. Non-reading clients while large messages arrive for their accounts: the relay closes them as slow
      //    consumers, and each resumes with Last-Event-ID and gets every message, once, in order.
      const slowAgents = [agents[2], agents[3]];
      const stalled: Array<{ account: number; stream: StalledStream }> = [];
      for (const [account, count] of [rng.int(1, 3), rng.int(1, 2)].entries()) {
        for (let i = 0; i < count; i++) {
          const stream = await StalledStream.open(hostile.port, slowAgents[account].token);
          clients.push(stream);
          if (stream.status !== 200)
            finding(`stalled ${account}`, `stalled stream answered ${stream.status}`);
          stalled.push({ account, stream });
        }
      }
      await eventually(() => hub.size === stalled.length);
      const slowBefore = await metricValue(hostile, 'relay_streams_closed_total', '{reason="slow_consumer"}');
      const texts: string[][] = [[], []];
      for (let round = 0; round < 16 && hub.size > 0; round++) {
        for (const [account, agent] of slowAgents.entries()) {
          const text = `slow ${account} #${texts[account].length + 1} 느린 ${rng.hex(6)}`;
          await sendMessage(hostile.url, paddedMessage(agent.userKey, text, rng.int(300, 900)));
          texts[account].push(text);
          sent += 1;
        }
      }
      const slowClosed = await eventually(() => hub.size === 0, 10000);
      const slowConsumers =
        (await metricValue(hostile, 'relay_streams_closed_total', '{reason="slow_consumer"}')) - slowBefore;
      let resumes = 0;
      for (const [i, { account, stream }] of stalled.entries()) {
        const label = `stalled ${i} of account ${account}`;
        let got: SeenMessage[] = [];
        try {
          got = seenOf(await stream.drain(10000));
        } catch (e) {
          finding(label, (e as Error).message);
          stream.destroy();
        }
        resumes += await resumeAll(slowAgents[account].token, got, texts[account].length, label);
        const problem = sequenceProblem(got, texts[account]);
        if (problem) finding(label, problem);
      }
      await closeAll('slow consumers');

      // 4. Clients that drop a replay half-way (reading, or not reading at all) and reconnect at once with
      //    Last-Event-ID: the last one still gets everything after what was seen.
      const backlog = rng.int(30, 40);
      const replayTexts: string[] = [];
      for (let i = 1; i <= backlog; i++) {
        const text = `replay #${i} ${rng.hex(6)}`;
        await sendMessage(hostile.url, paddedMessage(agents[4].userKey, text, rng.int(8, 40)));
        replayTexts.push(text);
        sent += 1;
      }
      const replayed: SeenMessage[] = [];
      const rounds: string[] = [];
      for (let round = 0, count = rng.int(4, 7); round < count; round++) {
        const last = replayed.at(-1)?.id ?? 0;
        if (last >= backlog) break;
        if (round > 0 && rng.chance(0.35)) {
          const stream = await StalledStream.open(hostile.port, agents[4].token, { lastEventId: last });
          if (stream.status !== 200) finding(`replay round ${round}`, `answered ${stream.status}`);
          stream.destroy();
          rounds.push(`${last}→stalled`);
          continue;
        }
        const stream = await openChecked(`replay round ${round} after ${last}`, agents[4].token, streamOk, {
          lastEventId: round === 0 && rng.chance(0.5) ? undefined : last,
          query: rng.chance(0.3),
        });
        if (stream?.status !== 200) continue;
        const stopAt = Math.min(backlog, last + rng.int(1, 9));
        // Dropped as soon as the event arrived (not on a poll: by then the whole replay may be in).
        await Promise.race([
          stream.waitFor((e) => e.event === 'message' && Number(e.id) >= stopAt, 5000),
          stream.waitForEnd(5000),
        ]).catch(() => undefined);
        stream.close();
        const seen = seenOf(stream.events);
        rounds.push(`${last}→${seen.at(-1)?.id ?? last}`);
        replayed.push(...seen);
      }
      resumes += await resumeAll(agents[4].token, replayed, backlog, 'after the dropped replays');
      const replayProblem = sequenceProblem(replayed, replayTexts);
      if (replayProblem) finding('dropped replays', replayProblem);
      await closeAll('dropped replays');

      // 5. Afterwards: alive and ready, no stream, slot or subscription left behind.
      for (const [endpoint, path] of [
        [EP.health, '/health'],
        [EP.ready, '/health/ready'],
      ]) {
        const res = await send(hostile.port, { method: 'GET', path });
        recorder.check({
          phase,
          endpoint,
          label: 'after the hostile clients',
          res,
          expect: { allowed: [200] },
        });
      }
      await eventually(() => pubsub.subscribedChannelCount === baselineChannels);
      console.log(
        `stream-limits: ${refused} refusals, ${replacedFull} replacements from a full address, ` +
          `${slowConsumers} slow consumers closed, ${resumes} resumes, ${sent} messages; dropped replays ${rounds.join(' ')}`,
      );
      await expectPhase(phase, before, { inbound_messages: sent }, 30, {
        slowConsumersClosed: [slowClosed ? slowConsumers : `still open: ${hub.size}`, stalled.length],
        refusedSome: [refused > 0, true],
        openStreams: [hub.size, 0],
        slotEntries: [await slotEntries(hostile), 0],
        subscribedChannels: [pubsub.subscribedChannelCount, baselineChannels],
      });
    } finally {
      for (const c of clients) {
        if (c instanceof SseClient) c.close();
        else c.destroy();
      }
      await hostile.close();
    }
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage was over 1,000 requests', async () => {
    const health = await send(relay.port, { method: 'GET', path: '/health' });
    const ready = await send(relay.port, { method: 'GET', path: '/health/ready' });
    expect([health.status, ready.status]).toEqual([200, 200]);
    expect(openStreams.size).toBe(0);
    expect(recorder.total).toBeGreaterThanOrEqual(1000);
  });
});
