import { createHash } from 'node:crypto';
import {
  createSession,
  CreatedSession,
  FakeKakao,
  kakaoPayload as fixturePayload,
  pairAgent,
  PairedAgent,
  resetState,
  sendMessage,
  sql,
  userMessage,
} from '@app/testing';
import { RunningRelay, startRelay } from '../test-app';
import { expected, rowCounts, RowCounts } from './db';
import { FuzzRequest, FuzzResponse, openStreams, runPool, send, sendRaw, streamStats } from './http-client';
import { toJsonText } from './json-text';
import { fuzzSeed, Prng } from './prng';
import { Expectation, Recorder } from './recorder';

/*
 * The shared frame of the fuzz suites under test/fuzz/ (one file per endpoint group): well over a thousand
 * generated malformed or hostile requests against every public and agent endpoint, from a seeded PRNG (FUZZ_SEED
 * replays a run). Each phase checks, for every answer: no 5xx, no hang, the uniform error body on every non-2xx
 * JSON answer, the status the contract gives where it gives one; and afterwards that the database moved by
 * exactly what the accepted requests explain (nothing at all for phases of rejected requests), that the process
 * still answers /health and that Object.prototype was not polluted.
 */

export const SEED = fuzzSeed();
export const SKILL_SECRET = 'fuzz-skill-secret-0123';
export const SIGNATURE_SECRET = 'fuzz-signature-secret-0123';
export const JSON_TYPE = { 'Content-Type': 'application/json' };
export const SETTLE_MS = 300;

export const EP = {
  health: 'GET /health',
  ready: 'GET /health/ready',
  root: 'GET /',
  webhook: 'POST /kakao/webhook',
  create: 'POST /v1/sessions/create',
  status: 'GET /v1/sessions/{token}/status',
  events: 'GET /v1/events',
  reply: 'POST /openclaw/reply',
} as const;

/**
 * The fewest requests each file must send: the sum of its phases' own floors. The suite was one file that
 * promised a barrage of over 1,000 requests; these floors add up to more than that, and every file checks both.
 */
export const BARRAGE_FLOORS = {
  routes: 100,
  pairing: 210,
  events: 150,
  webhook: 430,
  reply: 270,
  'raw-sockets': 120,
  'hostile-clients': 30,
} as const;

export interface Job {
  endpoint: string;
  label: string;
  req?: FuzzRequest;
  raw?: Buffer;
  expect?: Expectation;
  target?: 'main' | 'secured';
  after?: (res: FuzzResponse, json: unknown) => void;
}

/** A PRNG per phase, so one phase can be replayed alone (`-t`) with the same inputs. */
export function phaseRng(phase: string): Prng {
  const h = createHash('sha256').update(`${SEED}:${phase}`).digest();
  return new Prng(h.readUInt32LE(0));
}

export function jsonBody(value: unknown): Buffer {
  return Buffer.from(toJsonText(value), 'utf8');
}

let fixtureCallbacks = 0;
/**
 * The fixture payload with a callback URL the suites' relays allow (the webhook refuses any other with 400): the
 * fixture's own `bot-api.kakao.com` is not in their KAKAO_CALLBACK_ALLOWED_HOSTS.
 */
export function kakaoPayload(options: Parameters<typeof fixturePayload>[0] = {}) {
  fixtureCallbacks += 1;
  return fixturePayload({
    callbackUrl: `http://127.0.0.1/v1/callback/fuzz-fixture-${process.pid}-${fixtureCallbacks}`,
    ...options,
  });
}

/** The main relay of a fuzz file: local callbacks, and limits high enough not to turn every request into a 429. */
export const MAIN_RELAY_ENV: Record<string, string> = {
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
  INLINE_REPLY_TIMEOUT_MS: '200',
  // Deep fuzzing of validation, not of the limits: the limits must not turn every request into a 429.
  RATE_LIMIT_REPLIES_PER_MINUTE: '100000',
  WEBHOOK_USER_MESSAGES_PER_MINUTE: '100000',
  RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '100000',
  RATE_LIMIT_SESSION_STATUS_PER_MINUTE: '100000',
  RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE: '100000',
};

/** A second relay with webhook authentication on (both secrets), for the webhook's credential phase. */
const SECURED_RELAY_ENV: Record<string, string> = {
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
  KAKAO_SKILL_SECRET: SKILL_SECRET,
  KAKAO_SIGNATURE_SECRET: SIGNATURE_SECRET,
  WORKER_IN_PROCESS: 'false',
};

/**
 * What the phases play against: the relay, and (with `world`) a fake Kakao, two paired agents A and B with 12
 * and 3 stored messages, a pending session and a "bait" session nobody may pair.
 */
export interface FuzzWorld {
  relay: RunningRelay;
  /** Only with `secured: true`. */
  secured: RunningRelay;
  kakao: FakeKakao;
  agentA: PairedAgent;
  agentB: PairedAgent;
  pending: CreatedSession;
  bait: CreatedSession;
  messagesA: string[];
  messagesB: string[];
}

export interface FuzzSuiteOptions {
  /** Environment of the relay (default MAIN_RELAY_ENV). */
  relay?: Record<string, string>;
  /** Also start the relay with webhook authentication (`world.secured`, `Job.target: 'secured'`). */
  secured?: boolean;
  /** Set up the agents, sessions and messages of FuzzWorld (default true); without, only `world.relay`. */
  world?: boolean;
}

export interface FuzzSuite {
  readonly recorder: Recorder;
  /** Filled in before the first test. */
  readonly world: FuzzWorld;
  /** Sends every job (a pool of `concurrency`) and checks each answer into the recorder. */
  runJobs(phase: string, jobs: Job[], concurrency?: number): Promise<void>;
  /**
   * Every finding of the phase, the exact row counts and any phase-specific facts (`[actual, expected]`), in
   * one assertion (a failure shows all of them); and that the phase sent at least `minRequests`.
   */
  expectPhase(
    phase: string,
    before: RowCounts,
    delta: Partial<RowCounts>,
    minRequests: number,
    facts?: Record<string, [unknown, unknown]>,
  ): Promise<void>;
  /** The last test of a file: the relay is alive and ready, no stream left open, and the barrage was sent. */
  expectAliveAfterBarrage(): Promise<void>;
}

/**
 * Declares the frame of one fuzz file inside its `describe`: before all, a clean database and Redis, the relays
 * and the world; after each test, the relay still answers /health and Object.prototype is untouched; after all,
 * every stream and relay closed and the tally printed.
 */
export function fuzzSuite(file: keyof typeof BARRAGE_FLOORS, options: FuzzSuiteOptions = {}): FuzzSuite {
  const recorder = new Recorder();
  const world = {} as FuzzWorld;
  let protoBaseline: string[] = [];
  let startedAt = Date.now();

  beforeAll(async () => {
    startedAt = Date.now();
    console.log(`fuzz seed: ${SEED} (0x${SEED.toString(16)}); replay with FUZZ_SEED=${SEED}`);
    await resetState();
    const [relay, secured, kakao] = await Promise.all([
      startRelay(options.relay ?? MAIN_RELAY_ENV),
      options.secured ? startRelay(SECURED_RELAY_ENV) : undefined,
      options.world !== false ? FakeKakao.start() : undefined,
    ]);
    Object.assign(world, { relay, secured, kakao });
    if (kakao) {
      [world.agentA, world.agentB, world.pending, world.bait] = await Promise.all([
        pairAgent(relay.url, 'fuzz-agent-a'),
        pairAgent(relay.url, 'fuzz-agent-b'),
        createSession(relay.url),
        createSession(relay.url),
      ]);
      // In order per account (their sequence numbers follow the texts); the two accounts side by side.
      const sendMessages = async (agent: PairedAgent, count: number, text: (i: number) => string) => {
        for (let i = 0; i < count; i++) {
          await sendMessage(relay.url, userMessage(agent.userKey, text(i), kakao.callbackUrl()));
        }
      };
      await Promise.all([
        sendMessages(world.agentA, 12, (i) => `질문 ${i}`),
        sendMessages(world.agentB, 3, (i) => `question ${i}`),
      ]);
      const ids = async (accountId: string) =>
        (
          await sql<{ id: string }>('SELECT id FROM inbound_messages WHERE account_id = $1 ORDER BY seq', [
            accountId,
          ])
        ).map((r) => r.id);
      world.messagesA = await ids(world.agentA.accountId);
      world.messagesB = await ids(world.agentB.accountId);
      expect(world.messagesA).toHaveLength(12);
      expect(world.messagesB).toHaveLength(3);
    }
    protoBaseline = Object.getOwnPropertyNames(Object.prototype).sort();
  }, 60_000);

  afterEach(async () => {
    // Between phases: the relay still answers its liveness check, and no request polluted Object.prototype.
    const health = await send(world.relay.port, { method: 'GET', path: '/health' });
    expect(health.status).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBaseline);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  afterAll(async () => {
    for (const socket of openStreams) socket.destroy();
    await world.secured?.close();
    await world.relay?.close();
    await world.kakao?.close();
    console.log(
      `fuzz ${file}, seed ${SEED}: ${recorder.total} requests in ${((Date.now() - startedAt) / 1000).toFixed(1)} s, ` +
        `${streamStats.opened} event streams opened and closed, ${recorder.violations.length} findings\n` +
        recorder.table(),
    );
  });

  return {
    recorder,
    world,

    async runJobs(phase, jobs, concurrency = 6) {
      await runPool(jobs, concurrency, async (job) => {
        const port = job.target === 'secured' ? world.secured.port : world.relay.port;
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
    },

    async expectPhase(phase, before, delta, minRequests, facts = {}) {
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
    },

    async expectAliveAfterBarrage() {
      const health = await send(world.relay.port, { method: 'GET', path: '/health' });
      const ready = await send(world.relay.port, { method: 'GET', path: '/health/ready' });
      expect([health.status, ready.status]).toEqual([200, 200]);
      expect(openStreams.size).toBe(0);
      expect(recorder.total).toBeGreaterThanOrEqual(BARRAGE_FLOORS[file]);
      expect(Object.values(BARRAGE_FLOORS).reduce((a: number, b) => a + b, 0)).toBeGreaterThanOrEqual(1000);
    },
  };
}
