'use strict';
/*
 * `npm run bench`: the relay's performance on this machine, compared with a bare Node + PostgreSQL baseline.
 *
 *   baseline   bench/baseline-server.js (node:http + JSON.parse + one INSERT): autocannon as in (1), and the
 *              fixed-rate sender as in (2) (POST → 200 latency)
 *   relay A    default config (REPLY_COALESCE_MS=1200):
 *     (1) ingest      paired-user webhooks with unique callbackUrls, one SSE stream attached, autocannon
 *                     50 connections × 10 s (after a 2 s warm-up); then a separate 5 s run under the CPU profiler
 *     (2) latency     webhook → `message` event at 200 and 1,000 msg/s for 10 s each, spread round-robin over
 *                     4 paired users, each with its own stream; lost and duplicated counts
 *     (2ws) the same at 1,000 msg/s with every other stream on the agent socket (`GET /v1/ws`), the rest SSE:
 *                     the WebSocket streams' p99 no worse than the SSE streams' of the same run
 *     (3) reply       POST /openclaw/reply → fake Kakao callback POST, coalesced (1200 ms)
 *     (6) push        webhooks at 1,000 msg/s (after a 2 s warm-up at that rate, not measured) for an account
 *                     with a push endpoint (server-mode §2) → signed POSTs
 *                     to a local receiver that verifies each with the npm standardwebhooks library; webhook →
 *                     delivery latency at the receiver, lost (never delivered) and duplicated (a webhook-id
 *                     acknowledged twice, or a message under two webhook-ids); the relay's round trips per
 *                     message are counted in the warm-up
 * The latency and push phases also report the relay's main event loop over the run (utilization, delay p99):
 * how close the relay itself was to saturation, which is where a tail under load comes from.
 *     (7) tunnel      a webhook tunnel's round trip at 500 req/s for 10 s (bin/kakao-relay-tunnel.js in its own
 *                     process, forwarding to a local target) against calling the local target directly at the
 *                     same rate; added p99 < 5 ms, 0 errors
 *   relay B    REPLY_COALESCE_MS=0, fresh process:
 *     (4) memory      VmRSS idle, with 1,000 and 5,000 idle streams (one paired token), after they closed
 *     (3) reply       synchronous replies (each call waits for its own send)
 *
 * Everything runs on 127.0.0.1 against database kakao_relay_bench (dropped and re-created per run), Redis DB 12
 * with prefix kakao-relay-bench (its keys deleted per run). Writes bench/results/<name>.json and
 * <name>-ingest.cpuprofile, relay logs in bench/results/<name>-*.log.
 *
 * The relay runs compiled, as `npm start` runs it: the bench first compiles the working tree exactly as
 * `npm run build` does (tsconfig.build.json, then tsc-alias) but without the type check and into
 * node_modules/.cache/kakao-relay-bench/dist, so that it never deletes or rewrites the shared dist/ and works while
 * someone's edit does not type-check yet (~10 s).
 *
 * Options: --quick (short phases, for trying the script), --ref=<git ref> (benchmark a commit instead of the
 * working tree, e.g. to compare before/after a change), --dist[=<dir>] (use a tree built already, e.g. by
 * `npm run build`), --ts (run apps/relay/src/main.ts through test/support/register-ts.js: no build, but the
 * TypeScript compiler then lives in the relay process and inflates its memory), --name=<name>, --no-profile,
 * --only=<phase,…> (run only these phases: baseline, ingest, latency, latencyWs, replyCoalesced, push, tunnel,
 * memory, replySync), --profile-push (the push run under the CPU profiler, summary printed), --tunnel-rate=<req/s>
 * (the tunnel phase's rate, 500 by default), --push-rate=<msg/s> (the push phase's rate, 1,000 by default; its
 * target is judged at 1,000 only), --no-sync (no `sync` before each phase: dirty pages of the phases before are
 * then written out during the next).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { setTimeout, setInterval, clearInterval } = require('node:timers');
const { Client } = require('pg');
const Redis = require('ioredis');
const { startNodeChild, killAllChildren, installExitGuards, ROOT } = require('./lib/procs');
const { payloadFactory, requestJson, pairUser, SseClient, WsStreamClient } = require('./lib/relay-client');
const { closedLoop, fixedRate, timedPost } = require('./lib/load');
const { startFakeKakao } = require('./lib/fake-kakao');
const { summarizeProfile, formatSummary } = require('./cpuprofile-summary');
const {
  summarize,
  round,
  freePort,
  cpuMeter,
  rssKiB,
  mapLimit,
  waitUntil,
  sleep,
  withTimeout,
  waitForQuiet,
  flushDirtyPages,
} = require('./lib/util');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const distArg = argv.find((a) => a === '--dist' || a.startsWith('--dist='));
const FROM_SOURCES = argv.includes('--ts');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'kakao-relay-bench');
const PRIVATE_DIST = path.join(CACHE, 'dist');
const refArg = argv.find((a) => a.startsWith('--ref='));
const REF = refArg ? refArg.slice('--ref='.length) : null;
// default: compile privately; --dist[=dir]: a tree built already (npm run build); --ts: the sources via register-ts
const DIST_DIR = FROM_SOURCES
  ? null
  : distArg
    ? path.resolve(ROOT, distArg.includes('=') ? distArg.slice(7) : 'dist')
    : PRIVATE_DIST;
const PROFILE = !argv.includes('--no-profile');
const nameArg = argv.find((a) => a.startsWith('--name='));
const onlyArg = argv.find((a) => a.startsWith('--only='));
const ONLY = onlyArg ? onlyArg.slice('--only='.length).split(',') : null;
const SYNC = !argv.includes('--no-sync');

/** `--<name>=<per second>` (`--tunnel-rate`, `--push-rate`), or `fallback` when not given. */
function rateOption(name, fallback) {
  const arg = argv.find((a) => a.startsWith(`--${name}=`));
  if (!arg) return fallback;
  const rate = Number(arg.slice(name.length + 3));
  if (!(rate > 0)) throw new Error(`${arg}: the rate must be a positive number per second`);
  return rate;
}

/** Before a measured run: the earlier phases' rows written out now, not during it (`flushDirtyPages`). */
function flushBeforePhase() {
  return SYNC ? flushDirtyPages() : null;
}

const CONFIG = QUICK
  ? {
      ingest: { connections: 50, durationS: 3, warmupS: 1 },
      profileS: 2,
      latency: { rates: [200, 1000], durationS: 3, users: 4, lossGraceMs: 5000 },
      push: { rate: 1000, durationS: 3, lossGraceMs: 10000, warmup: { durationS: 1 } },
      latencyWsRates: [1000],
      replies: { coalesced: 10, sync: 10, spacingMs: 100 },
      streams: [200, 500],
      tunnel: { rate: 500, durationS: 3 },
    }
  : {
      ingest: { connections: 50, durationS: 10, warmupS: 2 },
      profileS: 5,
      latency: { rates: [200, 1000], durationS: 10, users: 4, lossGraceMs: 5000 },
      push: { rate: 1000, durationS: 10, lossGraceMs: 10000, warmup: { durationS: 2 } },
      latencyWsRates: [1000],
      replies: { coalesced: 60, sync: 60, spacingMs: 100 },
      streams: [1000, 5000],
      tunnel: { rate: 500, durationS: 10 },
    };

const TARGETS = {
  ingestReqPerSec: 2000,
  ingestP99Ms: 50,
  eventP99MsAt1000: 20,
  pushP99MsAt1000: 25,
  /** The agent socket's webhook → event p99 at 1,000 msg/s may exceed SSE's by this much (run-to-run noise). */
  wsP99Tolerance: 1.1,
  kibPerIdleStream: 18,
  tunnelAddedP99Ms: 5,
};

// BENCH_DB_NAME / BENCH_REDIS_URL / BENCH_REDIS_PREFIX: for a machine where several people run benches at once.
const DB_NAME = process.env.BENCH_DB_NAME || 'kakao_relay_bench';
if (!/^[a-z0-9_]*bench[a-z0-9_]*$/.test(DB_NAME)) throw new Error('BENCH_DB_NAME must contain "bench"');
const DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:5432/${DB_NAME}`;
const ADMIN_URL = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/12';
const REDIS_PREFIX = process.env.BENCH_REDIS_PREFIX || 'kakao-relay-bench';
const RESULTS = path.join(ROOT, 'bench', 'results');
const OVERALL_LIMIT_MS = 10 * 60 * 1000;
const RUN_ID = randomBytes(3).toString('hex');

const log = (msg) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Before each measured phase: wait (bounded, 45 s in all) for other work on the machine to stop. */
const quietChecks = [];
let quietBudgetMs = 45_000;
async function quiet(label) {
  const flushed = flushBeforePhase();
  const q = await waitForQuiet(Math.min(20_000, quietBudgetMs));
  quietBudgetMs = Math.max(0, quietBudgetMs - q.waitedMs);
  quietChecks.push({ before: label, ...q, flushed });
  const flushNote = flushed
    ? `; ${Math.round(flushed.dirtyKiB / 1024)} MiB of dirty pages written out first (sync ${flushed.syncMs} ms)`
    : '';
  log(`  CPU calibration before ${label}: ${q.calibrationMs} ms${flushNote}`);
  if (!q.quiet) log(`warning: machine still ${q.busyPct}% busy before ${label}; figures may be disturbed`);
  else if (q.waitedMs > 1500)
    log(`waited ${Math.round(q.waitedMs / 1000)} s for the machine to be quiet before ${label}`);
}

/** CPU milliseconds the measured process spent per answered request. */
const cpuMsPer = (cpu, n) =>
  cpu && cpu.targetCpuSeconds !== null && n ? round((cpu.targetCpuSeconds * 1000) / n, 3) : null;

// ---------------------------------------------------------------------------------------------- set-up

/** 5,000 streams need ~5,100 descriptors in this process and in the relay child (which inherits the limit). */
function ensureFileLimit() {
  const needed = Math.max(...CONFIG.streams) + 2048;
  const soft = Number(spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isFinite(soft) || soft >= needed || process.env.BENCH_ULIMIT_RAISED) return soft;
  const hard = spawnSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const target = hard === 'unlimited' ? needed : Math.min(Number(hard), needed);
  if (target <= soft) {
    throw new Error(
      `ulimit -n is ${soft} (hard ${hard}); ${needed} needed for ${Math.max(...CONFIG.streams)} streams`,
    );
  }
  log(`raising ulimit -n from ${soft} to ${target} and restarting`);
  const r = spawnSync(
    '/bin/sh',
    [
      '-c',
      `ulimit -n ${target} && exec "$0" "$@"`,
      process.execPath,
      path.join(__dirname, 'run.js'),
      ...argv,
    ],
    { stdio: 'inherit', env: { ...process.env, BENCH_ULIMIT_RAISED: '1' } },
  );
  process.exit(r.status ?? 1);
}

async function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo);
  const mhz = /^cpu MHz\s*:\s*(.*)$/m.exec(cpuinfo);
  const pg = new Client({ connectionString: ADMIN_URL });
  await pg.connect();
  const pgVersion = (await pg.query('SHOW server_version')).rows[0].server_version;
  await pg.end();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  let git = null;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    git = REF
      ? {
          head,
          benchmarked: `${REF} = ${execFileSync('git', ['rev-parse', '--short', REF], { cwd: ROOT, encoding: 'utf8' }).trim()} (committed tree; working-tree edits not included)`,
        }
      : { head, benchmarked: 'working tree', uncommittedInAppsLibs: dirty };
  } catch {
    // not a git checkout
  }
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpuModel: model ? model[1].trim() : os.cpus()[0].model,
    cpuMHz: mhz ? Number(mhz[1]) : null,
    ramGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    node: process.version,
    postgres: pgVersion,
    redis: (/redis_version:(\S+)/.exec(info) || [])[1] || null,
    git,
    relayFrom: DIST_DIR
      ? path.relative(ROOT, path.join(DIST_DIR, 'apps/relay/src/main.js'))
      : 'apps/relay/src/main.ts via test/support/register-ts.js',
  };
}

/**
 * Compiles like `npm run build`, minus the type check, into a private directory: the working tree, or with
 * --ref=<git ref> that commit's apps/ and libs/ (exported with `git archive`, so the working tree is untouched).
 */
function buildPrivateDist() {
  fs.rmSync(PRIVATE_DIST, { recursive: true, force: true });
  let project = 'tsconfig.build.json';
  if (REF) {
    const src = path.join(CACHE, 'src');
    fs.rmSync(src, { recursive: true, force: true });
    fs.mkdirSync(src, { recursive: true });
    execFileSync(
      '/bin/sh',
      [
        '-c',
        'git archive --format=tar "$1" apps libs tsconfig.json tsconfig.build.json | tar -x -C "$2"',
        'sh',
        REF,
        src,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
    project = path.join(src, 'tsconfig.build.json');
  }
  const run = (bin, args) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', ...bin), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (r.status !== 0) {
      throw new Error(
        `${bin[0]} failed (${r.status ?? r.signal}):\n${(r.stdout + r.stderr).trim().slice(-2000)}`,
      );
    }
  };
  const t = Date.now();
  run(['typescript', 'bin', 'tsc'], ['-p', project, '--outDir', PRIVATE_DIST, '--noCheck']);
  run(['tsc-alias', 'dist', 'bin', 'index.js'], ['-p', project, '--outDir', PRIVATE_DIST]);
  return Date.now() - t;
}

/** A clean slate for this run: the bench database dropped (the relay re-creates it), the bench Redis keys gone. */
async function resetState() {
  const pg = new Client({ connectionString: ADMIN_URL });
  await pg.connect();
  try {
    await pg.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  } finally {
    await pg.end();
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  return deleted;
}

function childEnv(extra) {
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, ...extra };
}

async function startRelay(label, extraEnv = {}) {
  const port = await freePort();
  const env = childEnv({
    PORT: String(port),
    DATABASE_URL,
    REDIS_URL,
    REDIS_PREFIX,
    LOG_LEVEL: 'warn',
    KAKAO_CALLBACK_ALLOW_HTTP: 'true',
    KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    // The push phase's receiver is on 127.0.0.1 over http.
    PUSH_ALLOW_HTTP: 'true',
    PUSH_ALLOWED_PRIVATE_HOSTS: '127.0.0.1',
    ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
    // The abuse limits still run (one Redis script per request) but must not refuse the benchmark's load,
    // which comes from a handful of users and tokens on purpose.
    WEBHOOK_USER_MESSAGES_PER_MINUTE: '1000000',
    RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '1000000',
    RATE_LIMIT_SESSION_STATUS_PER_MINUTE: '1000000',
    RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE: '1000000',
    // The memory phase opens thousands of streams of one token from one address: the stream caps (3 per
    // token, 50 per address) still run their Redis script per stream but must not replace or refuse them.
    MAX_STREAMS_PER_TOKEN: '100000',
    MAX_STREAMS_PER_IP: '1000000',
    TUNNEL_REQUESTS_PER_MINUTE: '10000000',
    ...extraEnv,
  });
  const entry = DIST_DIR
    ? [path.join(DIST_DIR, 'apps/relay/src/main.js')]
    : ['-r', './test/support/register-ts.js', 'apps/relay/src/main.ts'];
  const relay = await startNodeChild({
    name: `relay ${label}`,
    args: ['--expose-gc', '-r', './bench/relay-hook.js', ...entry],
    env,
    port,
    readyPath: '/health/ready',
    logFile: path.join(RESULTS, `${runName}-relay-${label}.log`),
  });
  log(`relay ${label} ready on :${port} (pid ${relay.pid}) after ${relay.startupMs} ms`);
  return relay;
}

async function countStored(accountId) {
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  try {
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM inbound_messages WHERE account_id = $1', [
      accountId,
    ]);
    return rows[0].n;
  } finally {
    await pg.end();
  }
}

// ---------------------------------------------------------------------------------------------- phases

const makePayload = payloadFactory();
const ingestBody = (userKey, tag) =>
  makePayload({
    userKey,
    text: `${tag}-[<id>]`,
    // An allowed callback host of the bench relays (the webhook refuses others with 400).
    callbackUrl: `http://127.0.0.1/v1/callback/${tag}-[<id>]`,
  });

/** (5) the baseline server: autocannon as in (1), fixed rates as in (2). */
async function baselinePhase() {
  const port = await freePort();
  const server = await startNodeChild({
    name: 'baseline',
    args: ['bench/baseline-server.js'],
    env: childEnv({ PORT: String(port), DATABASE_URL, DATABASE_POOL_SIZE: '20' }),
    port,
    readyPath: '/health/ready',
    logFile: path.join(RESULTS, `${runName}-baseline.log`),
  });
  try {
    const out = {};
    const body = ingestBody(`baseline-${RUN_ID}`, `base-${RUN_ID}`);
    const { connections, durationS, warmupS } = CONFIG.ingest;
    log(`baseline: warm-up ${warmupS} s`);
    await closedLoop({ port, path: '/kakao/webhook', body, connections, durationS: warmupS });
    await quiet('baseline ingest');
    log(`baseline: autocannon ${connections} connections × ${durationS} s`);
    const meter = cpuMeter(server.pid);
    out.ingest = await closedLoop({
      port,
      path: '/kakao/webhook',
      body,
      connections,
      durationS,
      expectBody: '"useCallback":true',
    });
    out.ingest.cpu = meter.stop();
    out.ingest.cpuMsPerRequest = cpuMsPer(out.ingest.cpu, out.ingest.requests);
    out.fixedRate = {};
    for (const rate of CONFIG.latency.rates) {
      // As before the relay's fixed-rate phases (`quiet`): the ingest run's rows written out first.
      const flushed = flushBeforePhase();
      await sleep(500);
      log(`baseline: fixed rate ${rate}/s × ${CONFIG.latency.durationS} s`);
      const m = cpuMeter(server.pid);
      const run = await fixedRate({
        rate,
        durationS: CONFIG.latency.durationS,
        send: (i, agent) =>
          timedPost(
            port,
            '/kakao/webhook',
            makePayload({
              userKey: `baseline-${RUN_ID}`,
              text: `base-rate-${rate}-${i}`,
              callbackUrl: `http://127.0.0.1/v1/callback/base-${RUN_ID}-${rate}-${i}`,
            }),
            agent,
            '"useCallback":true',
          ),
      });
      const ok = run.answers.filter((a) => a.ok);
      out.fixedRate[rate] = {
        flushed,
        sent: run.sent,
        achievedRate: run.achievedRate,
        failed: run.sent - ok.length,
        responseMs: summarize(ok.map((a) => a.t1 - a.t0)),
        schedulingLagMs: run.schedulingLagMs,
        cpu: m.stop(),
      };
      out.fixedRate[rate].cpuMsPerRequest = cpuMsPer(out.fixedRate[rate].cpu, ok.length);
    }
    return out;
  } finally {
    await server.stop();
  }
}

/** (1) paired-user ingest with one stream attached, and the CPU profile of a second, shorter run. */
async function ingestPhase(relay) {
  const user = await pairUser(relay.port, `ingest-${RUN_ID}`, makePayload);
  const stream = await new SseClient(relay.port, user.token).open();
  try {
    const { connections, durationS, warmupS } = CONFIG.ingest;
    const body = ingestBody(user.userKey, `ingest-${RUN_ID}`);
    // Until every stored message reached the stream and no more are being stored (requests that were in
    // flight when autocannon stopped still finish): bounded by 30 s.
    const drain = async () => {
      const t = performance.now();
      let stored = await countStored(user.accountId);
      for (;;) {
        await waitUntil(() => stream.count('message') >= stored, 30_000 - (performance.now() - t), 20);
        await sleep(200);
        const again = await countStored(user.accountId);
        if (again === stored || performance.now() - t > 30_000) break;
        stored = again;
      }
      return { stored, streamed: stream.count('message'), drainMs: round(performance.now() - t - 200, 0) };
    };
    log(`ingest: warm-up ${warmupS} s (counting the relay's PostgreSQL queries and Redis commands)`);
    await relay.request('count-start');
    await closedLoop({ port: relay.port, path: '/kakao/webhook', body, connections, durationS: warmupS });
    const afterWarmup = await drain();
    const counts = await relay.request('count-stop');
    const roundTrips = perMessage(counts, afterWarmup.stored, 'the ingest warm-up');
    await quiet('relay ingest');
    log(`ingest: autocannon ${connections} connections × ${durationS} s, one stream attached`);
    const meter = cpuMeter(relay.pid);
    const run = await closedLoop({
      port: relay.port,
      path: '/kakao/webhook',
      body,
      connections,
      durationS,
      expectBody: '"useCallback":true',
    });
    run.cpu = meter.stop();
    run.cpuMsPerRequest = cpuMsPer(run.cpu, run.requests);
    const afterRun = await drain();
    run.storedRows = afterRun.stored - afterWarmup.stored;
    run.streamedEvents = afterRun.streamed - afterWarmup.streamed;
    run.streamDrainMsAfterLoad = afterRun.drainMs;
    run.streamIdsOutOfOrder = stream.idWentBackwards;
    log(
      `ingest: ${run.reqPerSec} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms; ` +
        `stored ${run.storedRows}, streamed ${run.streamedEvents} (drained ${run.streamDrainMsAfterLoad} ms after)`,
    );

    let profile = null;
    if (PROFILE) {
      const file = path.join(RESULTS, `${runName}-ingest.cpuprofile`);
      log(`ingest: profiled run ${CONFIG.profileS} s → ${path.relative(ROOT, file)}`);
      await relay.request('prof-start', { intervalUs: 1000 });
      let profiled;
      try {
        profiled = await closedLoop({
          port: relay.port,
          path: '/kakao/webhook',
          body,
          connections,
          durationS: CONFIG.profileS,
        });
      } finally {
        await relay.request('prof-stop', { file }, 60_000);
      }
      await drain();
      const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { top: 30 });
      profile = {
        file: path.relative(ROOT, file),
        reqPerSecUnderProfiler: profiled.reqPerSec,
        summary,
      };
    }
    return { run, roundTripsPerMessage: roundTrips, profile };
  } finally {
    stream.close();
  }
}

/** Calls per stored message, from the relay hook's counts during the warm-up (ingest with one stream). */
/** The relay's main event loop during a run (`loop-stop` of the relay hook), for the phase's log line. */
function loopNote(loop) {
  return `relay event loop busy ${Math.round(loop.utilization * 100)} %, delay p99 ${loop.delayMs.p99} ms`;
}

function perMessage(counts, messages, during) {
  const table = (map) =>
    Object.entries(map || {})
      .map(([what, n]) => ({ what, perMessage: round(n / messages, 2), calls: n }))
      .filter((r) => r.perMessage >= 0.01)
      .sort((a, b) => b.calls - a.calls);
  const pg = table(counts && counts.postgres);
  const redis = table(counts && counts.redis);
  const sum = (rows) => round(rows.reduce((n, r) => n + r.calls, 0) / messages, 2);
  return {
    messages,
    note: `counted in the relay process (pg Client#query, ioredis sendCommand) during ${during}`,
    postgresQueriesPerMessage: sum(pg),
    redisCommandsPerMessage: sum(redis),
    postgres: pg,
    redis,
  };
}

/**
 * (2) webhook → `message` event latency at fixed rates, round-robin over several paired users and streams; the
 * streams are SSE (`transport` 'sse'), or (2ws, 'ws') every other one on the agent socket and the rest SSE: the
 * WebSocket streams' latency is compared with the SSE streams' of the same window (`sseEventLatencyMs`), under the
 * same load and the same moments of the host's noise, where two separate windows' p99 differ by more than the
 * transports do.
 */
async function latencyPhase(relay, transport = 'sse', rates = CONFIG.latency.rates) {
  const { durationS, users: userCount, lossGraceMs } = CONFIG.latency;
  const paired = transport === 'ws';
  const transportOf = (u) => (paired && u % 2 === 1 ? 'sse' : transport);
  const label = paired ? 'latency ws' : 'latency';
  const byText = new Map();
  const onEvent = (ev, t) => {
    if (ev.event !== 'message') return;
    const data = typeof ev.data === 'string' ? JSON.parse(ev.data) : ev.data;
    const rec = byText.get(data.normalized.text);
    if (!rec) return;
    rec.arrivals++;
    if (rec.tEvent === null) rec.tEvent = t;
  };
  const users = [];
  const streams = [];
  try {
    for (let u = 0; u < userCount; u++) {
      const user = await pairUser(relay.port, `latency-${transport}-${RUN_ID}-${u}`, makePayload);
      users.push(user);
      const Client = transportOf(u) === 'ws' ? WsStreamClient : SseClient;
      streams.push(await new Client(relay.port, user.token, { onEvent }).open());
    }
    const out = {};
    for (const rate of rates) {
      await sleep(1000);
      await quiet(`${label} ${rate}/s`);
      const over = paired
        ? `${Math.ceil(userCount / 2)} on WebSocket, ${Math.floor(userCount / 2)} on SSE, in turns`
        : transport;
      log(`${label}: ${rate} msg/s × ${durationS} s over ${userCount} users/streams (${over})`);
      const records = [];
      await relay.request('loop-start');
      const meter = cpuMeter(relay.pid);
      const run = await fixedRate({
        rate,
        durationS,
        send: (i, agent) => {
          const text = `lat-${transport}-${RUN_ID}-${rate}-${i}`;
          const rec = {
            t0: null,
            t1: null,
            ok: false,
            tEvent: null,
            arrivals: 0,
            via: transportOf(i % userCount),
          };
          byText.set(text, rec);
          records.push(rec);
          const body = makePayload({
            userKey: users[i % userCount].userKey,
            text,
            callbackUrl: `http://127.0.0.1/v1/callback/lat-${transport}-${RUN_ID}-${rate}-${i}`,
          });
          return timedPost(relay.port, '/kakao/webhook', body, agent, '"useCallback":true').then((r) => {
            rec.t0 = r.t0;
            rec.t1 = r.t1;
            rec.ok = r.ok;
            rec.text = r.text;
            return r;
          });
        },
      });
      const cpu = meter.stop();
      const eventLoop = await relay.request('loop-stop');
      // lost = not arrived within the grace period after the last answer; then a moment more for duplicates
      await waitUntil(() => records.every((r) => r.arrivals > 0), lossGraceMs, 20);
      await sleep(500);
      const arrived = records.filter((r) => r.arrivals > 0 && r.t0 !== null);
      const failed = records.filter((r) => !r.ok);
      out[rate] = {
        sent: run.sent,
        achievedRate: run.achievedRate,
        webhookFailed: failed.length,
        sampleFailure: failed.length ? failed[0].text || 'no answer' : null,
        // paired: the WebSocket streams' messages here, the SSE streams' of the same window below
        eventLatencyMs: summarize(arrived.filter((r) => r.via === transport).map((r) => r.tEvent - r.t0)),
        ...(paired
          ? {
              sseEventLatencyMs: summarize(
                arrived.filter((r) => r.via === 'sse').map((r) => r.tEvent - r.t0),
              ),
            }
          : {}),
        webhookResponseMs: summarize(records.filter((r) => r.ok).map((r) => r.t1 - r.t0)),
        // Kakao gives a skill 5 s: an answer later than that is an error shown to the user
        webhookAnswersOver5s: records.filter((r) => r.ok && r.t1 - r.t0 > 5000).length,
        // how fast messages actually came out of the relay (first send → last event)
        deliveredPerSecond: arrived.length
          ? round(
              arrived.length /
                ((Math.max(...arrived.map((r) => r.tEvent)) -
                  Math.min(...records.map((r) => r.t0 ?? Infinity))) /
                  1000),
              1,
            )
          : null,
        lost: records.filter((r) => r.arrivals === 0).length,
        duplicated: records.reduce((n, r) => n + Math.max(0, r.arrivals - 1), 0),
        eventBeforeResponse: arrived.filter((r) => r.tEvent < r.t1).length,
        schedulingLagMs: run.schedulingLagMs,
        cpu,
        cpuMsPerMessage: cpuMsPer(cpu, run.sent),
        eventLoop,
      };
      const o = out[rate];
      const sse = o.sseEventLatencyMs;
      log(
        `${label} ${rate}/s: p50 ${o.eventLatencyMs.p50} p95 ${o.eventLatencyMs.p95} p99 ${o.eventLatencyMs.p99} ` +
          `max ${o.eventLatencyMs.max} ms` +
          (sse
            ? ` (the SSE streams of the same run: p50 ${sse.p50} p95 ${sse.p95} p99 ${sse.p99} max ${sse.max} ms)`
            : '') +
          `; lost ${o.lost}, duplicated ${o.duplicated}, webhook failed ${o.webhookFailed}` +
          `; ${loopNote(eventLoop)}`,
      );
      for (const r of records) r.text = undefined;
    }
    out.streamIdsOutOfOrder = streams.reduce((n, s) => n + s.idWentBackwards, 0);
    return out;
  } finally {
    for (const s of streams) s.close();
  }
}

/**
 * Where the deliveries later than `limitMs` come from: how many; how many of them had their webhook answered late
 * already (more than half the limit: the stall was on the way in, before the event existed); and how they fall in
 * time, as the 100 ms windows of their sending (few windows holding many: stalls; many windows: queueing).
 */
function lateDeliveries(records, lags, limitMs) {
  const arrived = records.filter((r) => r.arrivals > 0 && r.t0 !== null);
  const late = arrived.filter((r) => r.tDelivered - r.t0 >= limitMs);
  const lagOf = new Map(records.map((r, i) => [r, lags[i]]));
  if (!late.length) return { count: 0 };
  const start = Math.min(...arrived.map((r) => r.t0));
  const windows = new Map();
  for (const r of late) {
    const w = Math.floor((r.t0 - start) / 100);
    windows.set(w, (windows.get(w) || 0) + 1);
  }
  const worst = [...windows].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return {
    count: late.length,
    answeredLate: late.filter((r) => r.t1 - r.t0 >= limitMs / 2).length,
    // sent more than 5 ms after their time: the sender itself was held up, and sent what was due at once
    sentLate: late.filter((r) => lagOf.get(r) > 5).length,
    maxSendLagMs: Math.round(Math.max(...late.map((r) => lagOf.get(r)))),
    windows100ms: windows.size,
    worstWindows: worst.map(([w, n]) => `${(w / 10).toFixed(1)} s: ${n}`),
  };
}

function lateNote(late) {
  if (!late.count) return 'no delivery over the target';
  return (
    `${late.count} deliveries over the target (${late.answeredLate} of them answered late, ${late.sentLate} sent ` +
    `more than 5 ms after their time, by up to ${late.maxSendLagMs} ms), sent in ` +
    `${late.windows100ms} windows of 100 ms, the worst ${late.worstWindows.join(', ')}`
  );
}

/**
 * (6) push delivery: one paired user whose account has a push endpoint on a local receiver; webhooks at a fixed
 * rate; each delivery is verified with `standardwebhooks` (`Webhook.verify`) and timed from the webhook's send.
 * lost = a message never delivered within the grace period; duplicated = a webhook-id acknowledged more than once
 * (at-least-once is allowed by Standard Webhooks, but with nothing failing there is no reason for a second one)
 * plus messages that arrived under more than one webhook-id.
 */
async function pushPhase(relay) {
  const { Webhook } = require('standardwebhooks');
  const http = require('node:http');
  const { durationS, lossGraceMs } = CONFIG.push;
  const rate = rateOption('push-rate', CONFIG.push.rate);
  const byText = new Map();
  let secret = null;
  let badSignatures = 0;
  // Each delivery is timed when it has been read, matched to its message while the run waits for the last ones
  // (a JSON.parse), and verified with the library only when all have arrived: verifying in the handler, or while
  // deliveries are still on their way, would put the receiver's own HMAC work (pure JS, ~10,000 of them at once
  // when the sending ends) into the measured latency.
  // What is kept for verification is the body's bytes (a Buffer: outside the V8 heap) and the three header
  // strings, so that the receiver's own garbage collector, marking 10,000 bodies, does not pause it while
  // deliveries arrive.
  const received = [];
  const toVerify = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t = performance.now();
      res.writeHead(204).end();
      const h = req.headers;
      received.push({
        t,
        raw: require('node:buffer').Buffer.concat(chunks),
        id: h['webhook-id'],
        timestamp: h['webhook-timestamp'],
        signature: h['webhook-signature'],
      });
    });
  });
  const collect = () => {
    for (const delivery of received.splice(0)) {
      toVerify.push(delivery);
      const body = JSON.parse(delivery.raw.toString('utf8'));
      const rec = byText.get(body.data && body.data.normalized && body.data.normalized.text);
      if (!rec) continue;
      rec.arrivals++;
      rec.ids.add(delivery.id);
      if (rec.tDelivered === null || delivery.t < rec.tDelivered) rec.tDelivered = delivery.t;
    }
  };
  const verifyAll = () => {
    for (const { raw, id, timestamp, signature } of toVerify.splice(0)) {
      try {
        new Webhook(secret).verify(raw.toString('utf8'), {
          'webhook-id': id,
          'webhook-timestamp': timestamp,
          'webhook-signature': signature,
        });
      } catch {
        badSignatures++;
      }
    }
  };
  let collecting = null;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const user = await pairUser(relay.port, `push-${RUN_ID}`, makePayload);
    const put = await requestJson(
      relay.port,
      'PUT',
      '/v1/push-endpoint',
      { url: `http://127.0.0.1:${server.address().port}/hook` },
      { headers: { Authorization: `Bearer ${user.token}` } },
    );
    if (put.status !== 200) throw new Error(`PUT /v1/push-endpoint answered ${put.status}: ${put.text}`);
    secret = put.body.secret;
    // Warm-up at the measured rate, not measured (as the ingest phase's): the push path's code is compiled, and
    // its sockets and statements made, before the clock runs. Without it the first 1.5 s of the run carried a
    // backlog of up to 0.7 s in the webhook path itself (also after 2 s at 200/s), every run, and nothing after.
    // One webhook of the user whose text is `text` (the warm-up's and the measured run's).
    const webhook = (text, agent) =>
      timedPost(
        relay.port,
        '/kakao/webhook',
        makePayload({ userKey: user.userKey, text, callbackUrl: `http://127.0.0.1/v1/callback/${text}` }),
        agent,
        '"useCallback":true',
      );
    const warmupS = CONFIG.push.warmup.durationS; // at the measured rate
    log(`push: warm-up ${rate} msg/s × ${warmupS} s (not measured; the relay's round trips counted)`);
    await relay.request('count-start');
    const warm = await fixedRate({
      rate,
      durationS: warmupS,
      send: (i, agent) => webhook(`push-warmup-${RUN_ID}-${i}`, agent),
    });
    await sleep(1000);
    const roundTrips = perMessage(
      await relay.request('count-stop'),
      warm.sent,
      'the push warm-up (first attempts and their rows included)',
    );
    log(
      `push: ${roundTrips.postgresQueriesPerMessage} PostgreSQL queries and ` +
        `${roundTrips.redisCommandsPerMessage} Redis commands per message`,
    );
    collect(); // verified with the others at the end
    await quiet(`push ${rate}/s`);
    log(`push: ${rate} msg/s × ${durationS} s → signed deliveries to a local receiver`);
    const records = [];
    const meter = cpuMeter(relay.pid);
    // --profile-push: the push run under the CPU profiler (its latencies are then not the figures to quote).
    const profileFile = argv.includes('--profile-push')
      ? path.join(RESULTS, `${runName}-push.cpuprofile`)
      : null;
    if (profileFile) await relay.request('prof-start', { intervalUs: 1000 });
    await relay.request('loop-start');
    // Matched as they come, a few at a time, so the receiver never blocks on a pile of them.
    collecting = setInterval(collect, 20);
    const run = await fixedRate({
      rate,
      durationS,
      send: (i, agent) => {
        const text = `push-${RUN_ID}-${i}`;
        const rec = { t0: null, ok: false, tDelivered: null, arrivals: 0, ids: new Set() };
        byText.set(text, rec);
        records.push(rec);
        return webhook(text, agent).then(
          (r) => {
            rec.t0 = r.t0;
            rec.t1 = r.t1;
            rec.ok = r.ok;
            rec.failure = r.ok ? null : `${r.status} ${r.text}`;
            return r;
          },
          (e) => {
            rec.failure = e.message;
            throw e;
          },
        );
      },
    });
    const cpu = meter.stop();
    const eventLoop = await relay.request('loop-stop');
    await waitUntil(
      () => {
        collect();
        if (records.every((r) => r.arrivals > 0)) clearInterval(collecting);
        return records.every((r) => r.arrivals > 0);
      },
      lossGraceMs,
      100,
    );
    if (profileFile) {
      await relay.request('prof-stop', { file: profileFile }, 60_000);
      const summary = summarizeProfile(JSON.parse(fs.readFileSync(profileFile, 'utf8')), { top: 30 });
      console.log(formatSummary(summary, 30));
    }
    await sleep(1000);
    clearInterval(collecting);
    collect();
    verifyAll();
    const arrived = records.filter((r) => r.arrivals > 0 && r.t0 !== null);
    const out = {
      rate,
      sent: run.sent,
      achievedRate: run.achievedRate,
      webhookFailed: records.filter((r) => !r.ok).length,
      // A webhook the relay did not accept (or that the bench could not send) is never delivered: counted lost.
      sampleFailure: (records.find((r) => !r.ok) || {}).failure || null,
      deliveryLatencyMs: summarize(arrived.map((r) => r.tDelivered - r.t0)),
      answerLatencyMs: summarize(arrived.map((r) => r.t1 - r.t0)),
      schedulingLagMs: run.schedulingLagMs,
      lateDeliveries: lateDeliveries(records, run.lags, TARGETS.pushP99MsAt1000),
      lost: records.filter((r) => r.arrivals === 0).length,
      duplicated: records.reduce((n, r) => n + Math.max(0, r.arrivals - 1) + Math.max(0, r.ids.size - 1), 0),
      badSignatures,
      cpu,
      cpuMsPerMessage: cpuMsPer(cpu, run.sent),
      eventLoop,
      roundTripsPerMessage: roundTrips,
    };
    log(
      `push ${rate}/s: p50 ${out.deliveryLatencyMs.p50} p95 ${out.deliveryLatencyMs.p95} ` +
        `p99 ${out.deliveryLatencyMs.p99} max ${out.deliveryLatencyMs.max} ms; lost ${out.lost}, ` +
        `duplicated ${out.duplicated}, bad signatures ${badSignatures}; ${loopNote(eventLoop)}; ` +
        `webhook answered p99 ${out.answerLatencyMs.p99} ms; ${lateNote(out.lateDeliveries)}` +
        (out.sampleFailure ? `; a failed webhook: ${out.sampleFailure}` : ''),
    );
    return out;
  } finally {
    clearInterval(collecting);
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * (7) A webhook tunnel's round trip: a local target (node:http in this process, 200 "ok"), the tunnel client
 * (bin/kakao-relay-tunnel.js, its own process) connected to the relay, and the same fixed-rate POSTs once straight
 * to the target and once through `/webhook/{id}/hook`. The tunnel's cost is the difference of the two latency
 * distributions (p50/p99), with every answer checked (200 and the target's body).
 */
async function tunnelPhase(relay) {
  const { durationS } = CONFIG.tunnel;
  const rate = rateOption('tunnel-rate', CONFIG.tunnel.rate);
  const http = require('node:http');
  const { spawn } = require('node:child_process');
  const target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetPort = target.address().port;
  let client = null;
  try {
    const user = await pairUser(relay.port, `tunnel-${RUN_ID}`, makePayload);
    const created = await requestJson(
      relay.port,
      'POST',
      '/v1/tunnels',
      { name: 'bench' },
      { headers: { Authorization: `Bearer ${user.token}` } },
    );
    if (created.status !== 201)
      throw new Error(`POST /v1/tunnels answered ${created.status}: ${created.text}`);
    const tunnel = created.body;
    let out = '';
    client = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'kakao-relay-tunnel.js'),
        '--server-url',
        `http://127.0.0.1:${relay.port}`,
        '--token',
        tunnel.token,
        '--target-url',
        `http://127.0.0.1:${targetPort}`,
        '--quiet',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    client.stdout.on('data', (c) => (out += c));
    client.stderr.on('data', (c) => (out += c));
    await waitUntil(() => out.includes('Webhook URL:'), 15_000);
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, padding: 'x'.repeat(600) });
    const measure = async (label, port, urlPath) => {
      await sleep(500);
      await quiet(`tunnel ${label}`);
      log(`tunnel: ${label} at ${rate} req/s × ${durationS} s`);
      const meter = cpuMeter(relay.pid);
      const run = await fixedRate({
        rate,
        durationS,
        send: (i, agent) => timedPost(port, urlPath, body, agent, 'ok'),
      });
      const cpu = meter.stop();
      const answers = run.answers;
      const okAnswers = answers.filter((a) => a.ok);
      return {
        sent: run.sent,
        achievedRate: run.achievedRate,
        errors: answers.length - okAnswers.length,
        sampleError: answers.find((a) => !a.ok)
          ? JSON.stringify(answers.find((a) => !a.ok)).slice(0, 200)
          : null,
        latencyMs: summarize(okAnswers.map((a) => a.t1 - a.t0)),
        relayCpu: cpu,
      };
    };
    // warm-up through the tunnel (JIT, sockets), not measured
    await fixedRate({
      rate,
      durationS: 1,
      send: (i, agent) => timedPost(relay.port, `/webhook/${tunnel.id}/hook`, body, agent, 'ok'),
    });
    const direct = await measure('direct', targetPort, '/hook');
    const through = await measure('through the tunnel', relay.port, `/webhook/${tunnel.id}/hook`);
    let profile = null;
    if (PROFILE) {
      const file = path.join(RESULTS, `${runName}-tunnel.cpuprofile`);
      await relay.request('prof-start', { intervalUs: 1000 });
      try {
        await fixedRate({
          rate,
          durationS: CONFIG.profileS,
          send: (i, agent) => timedPost(relay.port, `/webhook/${tunnel.id}/hook`, body, agent, 'ok'),
        });
      } finally {
        await relay.request('prof-stop', { file }, 60_000);
      }
      profile = {
        file: path.relative(ROOT, file),
        summary: summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { top: 30 }),
      };
    }
    const added = {};
    for (const p of ['p50', 'p95', 'p99']) added[p] = round(through.latencyMs[p] - direct.latencyMs[p], 2);
    log(
      `tunnel: direct p99 ${direct.latencyMs.p99} ms, tunnel p99 ${through.latencyMs.p99} ms → added p99 ` +
        `${added.p99} ms; errors ${through.errors}`,
    );
    return { rate, durationS, direct, tunnel: through, addedMs: added, profile };
  } finally {
    if (client) client.kill('SIGKILL');
    await new Promise((resolve) => target.close(resolve));
  }
}

/**
 * (3) POST /openclaw/reply → the fake Kakao server receives the callback POST. Messages carry callback URLs on
 * the fake server; their ids come from the stream. Coalesced: replies 100 ms apart (open loop), each to its
 * own message. Synchronous (REPLY_COALESCE_MS=0): one after the other, each call waits for its send.
 */
async function replyPhase(relay, fake, { label, count, sequential }) {
  const user = await pairUser(relay.port, `reply-${label}-${RUN_ID}`, makePayload);
  const idsByText = new Map();
  const stream = await new SseClient(relay.port, user.token, {
    onEvent: (ev) => {
      if (ev.event !== 'message') return;
      const data = JSON.parse(ev.data);
      idsByText.set(data.normalized.text, data.id);
    },
  }).open();
  try {
    const messages = [];
    for (let i = 0; i < count; i++) {
      const text = `reply-${label}-${RUN_ID}-${i}`;
      const cbPath = `/cb/${RUN_ID}-${label}-${i}`;
      const r = await requestJson(
        relay.port,
        'POST',
        '/kakao/webhook',
        makePayload({ userKey: user.userKey, text, callbackUrl: `http://127.0.0.1:${fake.port}${cbPath}` }),
      );
      if (r.status !== 200 || !r.body || r.body.useCallback !== true) {
        throw new Error(`reply ${label}: webhook answered ${r.status} ${r.text}`);
      }
      messages.push({ text, cbPath });
    }
    await waitUntil(() => messages.every((m) => idsByText.has(m.text)), 15_000);
    const missing = messages.filter((m) => !idsByText.has(m.text)).length;
    if (missing) throw new Error(`reply ${label}: ${missing} messages never reached the stream`);

    await quiet(`reply ${label}`);
    const response = { version: '2.0', template: { outputs: [{ simpleText: { text: 'hi' } }] } };
    const headers = { Authorization: `Bearer ${user.token}` };
    const sendReply = async (m) => {
      m.t0 = performance.now();
      const r = await requestJson(
        relay.port,
        'POST',
        '/openclaw/reply',
        { messageId: idsByText.get(m.text), response },
        { headers, timeoutMs: 70_000 },
      );
      m.status = r.status;
      m.answer = r.status === 200 ? null : r.text;
      m.tAnswer = r.at;
    };
    const meter = cpuMeter(relay.pid);
    if (sequential) {
      for (const m of messages) await sendReply(m);
    } else {
      const pending = [];
      for (const m of messages) {
        pending.push(sendReply(m));
        await sleep(CONFIG.replies.spacingMs);
      }
      await Promise.all(pending);
    }
    await waitUntil(() => messages.every((m) => fake.received.has(m.cbPath)), 15_000);
    const cpu = meter.stop();
    const delivered = messages.filter((m) => fake.received.has(m.cbPath));
    const failed = messages.filter((m) => m.status !== 200);
    const out = {
      replies: count,
      mode: sequential
        ? 'sequential (each call awaits its send)'
        : `open loop, ${CONFIG.replies.spacingMs} ms apart`,
      replyToCallbackMs: summarize(delivered.map((m) => fake.received.get(m.cbPath).at - m.t0)),
      replyCallAnswerMs: summarize(messages.filter((m) => m.tAnswer).map((m) => m.tAnswer - m.t0)),
      notDelivered: count - delivered.length,
      callbacksReceivedTwice: delivered.filter((m) => fake.received.get(m.cbPath).count > 1).length,
      replyCallsFailed: failed.length,
      sampleFailure: failed.length ? `${failed[0].status} ${failed[0].answer}` : null,
      cpu,
    };
    const s = out.replyToCallbackMs;
    log(
      `reply ${label}: p50 ${s.p50} p95 ${s.p95} p99 ${s.p99} max ${s.max} ms, not delivered ${out.notDelivered}`,
    );
    return out;
  } finally {
    stream.close();
  }
}

/**
 * (4) resident memory of a fresh relay: idle, with N idle streams open on one paired token, after they closed.
 * RSS only shrinks lazily after a GC, so every reading is taken the same way (GC, 1.5 s, GC, read), and the
 * idle reading follows one open/close cycle of a few streams, so that code and structures every stream
 * needs once (JIT, Nest handler paths, the channel subscription) are not charged to the streams.
 */
async function memoryPhase(relay) {
  const user = await pairUser(relay.port, `memory-${RUN_ID}`, makePayload);
  await quiet('memory');
  const openStreams = async (clients) =>
    withTimeout(
      mapLimit(clients, 64, (client) => client.open(30_000)),
      180_000,
      `opening ${clients.length} streams`,
    );
  const reading = async (label, streams) => {
    await relay.request('gc');
    await sleep(1500);
    const mem = await relay.request('gc');
    const r = { label, streams, rssKiB: rssKiB(relay.pid), heapUsedKiB: Math.round(mem.heapUsed / 1024) };
    log(`memory: ${label}: VmRSS ${r.rssKiB} KiB, heap used ${r.heapUsedKiB} KiB`);
    return r;
  };
  const warm = Array.from({ length: 100 }, () => new SseClient(relay.port, user.token));
  try {
    await openStreams(warm);
  } finally {
    for (const s of warm) s.close();
  }
  await sleep(500);
  const readings = [await reading('idle (after one open/close cycle of 100 streams)', 0)];
  const open = [];
  const openRate = [];
  try {
    for (const target of CONFIG.streams) {
      const t = performance.now();
      const batch = Array.from({ length: target - open.length }, () => new SseClient(relay.port, user.token));
      open.push(...batch);
      await openStreams(batch);
      openRate.push({ to: target, perSecond: round(batch.length / ((performance.now() - t) / 1000), 0) });
      readings.push(await reading(`${target} idle streams`, target));
    }
  } finally {
    for (const s of open) s.close();
  }
  await sleep(1000);
  readings.push(await reading('after the streams closed', 0));
  const idle = readings[0];
  const perStream = readings
    .filter((r) => r.streams > 0)
    .map((r) => ({
      streams: r.streams,
      rssKiBPerStream: round((r.rssKiB - idle.rssKiB) / r.streams, 1),
      heapKiBPerStream: round((r.heapUsedKiB - idle.heapUsedKiB) / r.streams, 1),
    }));
  const [a, b] = readings.filter((r) => r.streams > 0);
  const marginal =
    a && b
      ? {
          from: a.streams,
          to: b.streams,
          rssKiBPerStream: round((b.rssKiB - a.rssKiB) / (b.streams - a.streams), 1),
          heapKiBPerStream: round((b.heapUsedKiB - a.heapUsedKiB) / (b.streams - a.streams), 1),
        }
      : null;
  return { readings, perStream, marginal, openRate };
}

// ---------------------------------------------------------------------------------------------- report

const ratio = (a, b, digits = 2) =>
  a === null || b === null || a === undefined || !b ? null : round(a / b, digits);

function buildRatios(r) {
  const base = r.baseline;
  if (!base) return null;
  const out = {};
  if (r.ingest) {
    out.ingest = {
      reqPerSec: ratio(r.ingest.run.reqPerSec, base.ingest.reqPerSec),
      p50: ratio(r.ingest.run.latencyMs.p50, base.ingest.latencyMs.p50),
      p99: ratio(r.ingest.run.latencyMs.p99, base.ingest.latencyMs.p99),
    };
  }
  if (r.latency) {
    out.latency = {};
    for (const rate of CONFIG.latency.rates) {
      const rel = r.latency[rate];
      const b = base.fixedRate[rate];
      if (!rel || !b) continue;
      out.latency[rate] = {};
      for (const p of ['p50', 'p95', 'p99', 'max'])
        out.latency[rate][p] = ratio(rel.eventLatencyMs[p], b.responseMs[p]);
    }
  }
  const b200 = base.fixedRate[CONFIG.latency.rates[0]];
  for (const key of ['replyCoalesced', 'replySync']) {
    if (!r[key] || !b200) continue;
    out[key] = {};
    for (const p of ['p50', 'p95', 'p99', 'max'])
      out[key][p] = ratio(r[key].replyToCallbackMs[p], b200.responseMs[p]);
  }
  return out;
}

function verdicts(r) {
  const v = {};
  if (r.ingest) {
    const { reqPerSec, latencyMs } = r.ingest.run;
    v.ingest = {
      target: `≥ ${TARGETS.ingestReqPerSec} req/s with p99 < ${TARGETS.ingestP99Ms} ms (50 connections, 2 cores)`,
      measured: `${reqPerSec} req/s, p99 ${latencyMs.p99} ms`,
      met: reqPerSec >= TARGETS.ingestReqPerSec && latencyMs.p99 < TARGETS.ingestP99Ms,
    };
  }
  // What the bare baseline (node:http + one committed INSERT) itself did at 1,000/s on this host, if it ran: when
  // that is over a latency target already, the host cannot tell whether the relay meets it.
  const floor = r.baseline && r.baseline.fixedRate[1000] ? r.baseline.fixedRate[1000].responseMs.p99 : null;
  const hostNote = (targetMs) =>
    floor !== null && floor >= targetMs
      ? `this host cannot judge it: the bare baseline's own POST → 200 p99 at 1,000/s was ${floor} ms`
      : undefined;
  if (r.latency && r.latency[1000]) {
    const l = r.latency[1000];
    v.latency = {
      hostNote: hostNote(TARGETS.eventP99MsAt1000),
      target: `webhook → event p99 < ${TARGETS.eventP99MsAt1000} ms at 1,000 msg/s, zero lost, zero duplicated`,
      measured: `p99 ${l.eventLatencyMs.p99} ms, lost ${l.lost}, duplicated ${l.duplicated}`,
      met:
        l.eventLatencyMs.p99 !== null &&
        l.eventLatencyMs.p99 < TARGETS.eventP99MsAt1000 &&
        l.lost === 0 &&
        l.duplicated === 0,
    };
  }
  if (r.push) {
    const p = r.push;
    v.push = {
      target: `webhook → signed push delivery p99 < ${TARGETS.pushP99MsAt1000} ms at 1,000 msg/s, zero lost, zero duplicated`,
      measured: `p99 ${p.deliveryLatencyMs.p99} ms at ${p.rate} msg/s, lost ${p.lost}, duplicated ${p.duplicated}, bad signatures ${p.badSignatures}`,
      hostNote: hostNote(TARGETS.pushP99MsAt1000),
      // --push-rate: another rate is measured, not judged.
      met:
        p.rate !== 1000
          ? null
          : p.deliveryLatencyMs.p99 !== null &&
            p.deliveryLatencyMs.p99 < TARGETS.pushP99MsAt1000 &&
            p.lost === 0 &&
            p.duplicated === 0 &&
            p.badSignatures === 0,
    };
  }
  if (r.latencyWs && r.latencyWs[1000]) {
    const w = r.latencyWs[1000];
    const sse = w.sseEventLatencyMs.p99;
    v.latencyWs = {
      target:
        "agent socket: webhook → event p99 at 1,000 msg/s no worse than SSE's in the same run (within " +
        `${Math.round((TARGETS.wsP99Tolerance - 1) * 100)}%), zero lost, zero duplicated`,
      measured: `p99 ${w.eventLatencyMs.p99} ms (SSE ${sse} ms), lost ${w.lost}, duplicated ${w.duplicated}`,
      met:
        w.eventLatencyMs.p99 !== null &&
        sse !== null &&
        w.eventLatencyMs.p99 <= sse * TARGETS.wsP99Tolerance &&
        w.lost === 0 &&
        w.duplicated === 0,
    };
  }
  if (r.tunnel) {
    const t = r.tunnel;
    v.tunnel = {
      target: `tunnel round trip at ${t.rate} req/s: added p99 < ${TARGETS.tunnelAddedP99Ms} ms over the direct call, 0 errors`,
      measured: `added p99 ${t.addedMs.p99} ms (direct ${t.direct.latencyMs.p99}, tunnel ${t.tunnel.latencyMs.p99}), errors ${t.tunnel.errors}`,
      met: t.addedMs.p99 < TARGETS.tunnelAddedP99Ms && t.tunnel.errors === 0,
    };
  }
  if (r.memory) {
    const last = r.memory.perStream[r.memory.perStream.length - 1];
    v.memory = {
      target: `≤ ${TARGETS.kibPerIdleStream} KiB RSS per idle stream`,
      measured: `${last.rssKiBPerStream} KiB per stream at ${last.streams} streams`,
      met: last.rssKiBPerStream <= TARGETS.kibPerIdleStream,
    };
  }
  return v;
}

function printReport(r) {
  const rows = [];
  const row = (metric, relay, baseline, rat) =>
    rows.push([metric, relay ?? '-', baseline ?? '-', rat === null || rat === undefined ? '-' : `${rat}×`]);
  const base = r.baseline;
  const ra = r.ratios || {};
  if (r.ingest) {
    const i = r.ingest.run;
    row('(1) ingest req/s', i.reqPerSec, base && base.ingest.reqPerSec, ra.ingest && ra.ingest.reqPerSec);
    row('(1) ingest p50 ms', i.latencyMs.p50, base && base.ingest.latencyMs.p50, ra.ingest && ra.ingest.p50);
    row('(1) ingest p99 ms', i.latencyMs.p99, base && base.ingest.latencyMs.p99, ra.ingest && ra.ingest.p99);
    row(
      '(1) CPU ms per request (server process)',
      i.cpuMsPerRequest,
      base && base.ingest.cpuMsPerRequest,
      base && ratio(i.cpuMsPerRequest, base.ingest.cpuMsPerRequest),
    );
    row('(1) stream: events / stored rows', `${i.streamedEvents} / ${i.storedRows}`, null, null);
    const rt = r.ingest.roundTripsPerMessage;
    if (rt)
      row(
        '(1) PostgreSQL queries / Redis commands per message',
        `${rt.postgresQueriesPerMessage} / ${rt.redisCommandsPerMessage}`,
        '1 / 0',
        null,
      );
  }
  if (r.latency) {
    for (const rate of CONFIG.latency.rates) {
      const l = r.latency[rate];
      if (!l) continue;
      const b = base && base.fixedRate[rate];
      for (const p of ['p50', 'p95', 'p99', 'max']) {
        row(
          `(2) ${rate}/s webhook→event ${p} ms`,
          l.eventLatencyMs[p],
          b && b.responseMs[p],
          ra.latency && ra.latency[rate] && ra.latency[rate][p],
        );
      }
      row(`(2) ${rate}/s lost / duplicated`, `${l.lost} / ${l.duplicated}`, null, null);
      row(`(2) ${rate}/s delivered msg/s (first send → last event)`, l.deliveredPerSecond, null, null);
      row(`(2) ${rate}/s webhook answers later than 5 s`, l.webhookAnswersOver5s, b ? 0 : null, null);
    }
  }
  if (r.push) {
    const p = r.push;
    for (const q of ['p50', 'p95', 'p99', 'max']) {
      row(`(6) push ${p.rate}/s webhook→delivery ${q} ms`, p.deliveryLatencyMs[q], null, null);
    }
    row(
      `(6) push lost / duplicated / bad signatures`,
      `${p.lost} / ${p.duplicated} / ${p.badSignatures}`,
      null,
      null,
    );
  }
  if (r.latencyWs) {
    for (const rate of CONFIG.latencyWsRates) {
      const l = r.latencyWs[rate];
      if (!l) continue;
      const sse = l.sseEventLatencyMs;
      for (const p of ['p50', 'p95', 'p99', 'max']) {
        row(
          `(2ws) ${rate}/s webhook→event ${p} ms (WebSocket; SSE of the same run in the baseline column)`,
          l.eventLatencyMs[p],
          sse[p],
          ratio(l.eventLatencyMs[p], sse[p]),
        );
      }
      row(`(2ws) ${rate}/s lost / duplicated`, `${l.lost} / ${l.duplicated}`, null, null);
    }
  }
  const b200 = base && base.fixedRate[CONFIG.latency.rates[0]];
  for (const [key, title] of [
    ['replySync', 'REPLY_COALESCE_MS=0'],
    ['replyCoalesced', 'REPLY_COALESCE_MS=1200'],
  ]) {
    if (!r[key]) continue;
    for (const p of ['p50', 'p95', 'p99', 'max']) {
      row(
        `(3) reply→callback ${title} ${p} ms`,
        r[key].replyToCallbackMs[p],
        b200 && b200.responseMs[p],
        ra[key] && ra[key][p],
      );
    }
  }
  if (r.tunnel) {
    const t = r.tunnel;
    row(
      `(7) tunnel ${t.rate} req/s, direct p50 / p99 ms`,
      `${t.direct.latencyMs.p50} / ${t.direct.latencyMs.p99}`,
      null,
      null,
    );
    row(
      `(7) tunnel ${t.rate} req/s, through p50 / p99 ms`,
      `${t.tunnel.latencyMs.p50} / ${t.tunnel.latencyMs.p99}`,
      null,
      null,
    );
    row(`(7) tunnel added p99 ms, errors`, `${t.addedMs.p99}, ${t.tunnel.errors}`, null, null);
  }
  if (r.memory) {
    for (const m of r.memory.readings) row(`(4) VmRSS KiB, ${m.label}`, m.rssKiB, null, null);
    for (const p of r.memory.perStream)
      row(`(4) KiB per idle stream (0→${p.streams})`, p.rssKiBPerStream, null, null);
    if (r.memory.marginal) {
      const m = r.memory.marginal;
      row(`(4) KiB per idle stream (${m.from}→${m.to})`, m.rssKiBPerStream, null, null);
    }
  }
  const widths = [0, 1, 2, 3].map((c) =>
    Math.max(...[['metric', 'relay', 'baseline', 'ratio'], ...rows].map((x) => String(x[c]).length)),
  );
  const fmt = (x) =>
    x
      .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
      .join('  ');
  console.log('');
  console.log(fmt(['metric', 'relay', 'baseline', 'ratio']));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const x of rows) console.log(fmt(x));
  console.log(
    '\nratio = relay ÷ baseline: for req/s below 1 means the relay serves that fraction of the baseline;' +
      '\nfor latencies above 1 means the relay takes that many times as long. Latency baselines: (1) the baseline' +
      "\nunder the same autocannon load; (2) the baseline's POST→200 at the same fixed rate; (3) the baseline's" +
      `\nPOST→200 at ${CONFIG.latency.rates[0]}/s.`,
  );
  const cal = (r.quietChecks || []).map((q) => q.calibrationMs).filter((x) => x !== null && x !== undefined);
  if (cal.length) {
    console.log(
      `\nmachine speed index (ms for a fixed JSON workload in a fresh process, lower = faster): ` +
        `${Math.min(...cal)}–${Math.max(...cal)} over the phases; on a shared VM absolute figures move with it, ` +
        `the ratios much less`,
    );
  }
  if (r.tunnel && r.tunnel.profile) {
    console.log(`\nCPU profile of the tunnel run (${r.tunnel.profile.file}):`);
    console.log(formatSummary(r.tunnel.profile.summary, 12));
  }
  if (r.ingest && r.ingest.profile) {
    console.log(`\nCPU profile of the ingest run (${r.ingest.profile.file}):`);
    console.log(formatSummary(r.ingest.profile.summary, 12));
  }
  if (r.verdicts) {
    console.log('\ntargets:');
    for (const v of Object.values(r.verdicts)) {
      const verdict = v.met === null ? 'NOT JUDGED' : v.met ? 'MET' : 'NOT MET';
      console.log(`  ${verdict.padEnd(10)}  ${v.target}: ${v.measured}`);
      if (v.hostNote && !v.met) console.log(`              (${v.hostNote})`);
    }
  }
  const disturbed = [];
  const visit = (label, cpu) => {
    const others =
      cpu && cpu.othersPct ? cpu.othersPct.filter((o) => o.comm !== 'kernel threads' && o.pct >= 10) : [];
    if (others.length) disturbed.push(`${label}: ${others.map((o) => `${o.comm} ${o.pct}%`).join(', ')}`);
  };
  if (base) {
    visit('baseline ingest', base.ingest.cpu);
    for (const [rate, f] of Object.entries(base.fixedRate)) visit(`baseline ${rate}/s`, f.cpu);
  }
  if (r.ingest) visit('ingest', r.ingest.run.cpu);
  if (r.latency)
    for (const rate of CONFIG.latency.rates)
      if (r.latency[rate]) visit(`latency ${rate}/s`, r.latency[rate].cpu);
  for (const key of ['replyCoalesced', 'replySync']) if (r[key]) visit(key, r[key].cpu);
  if (disturbed.length) {
    console.log('\nWARNING: other processes used CPU during measured phases (% of one core):');
    for (const d of disturbed) console.log(`  ${d}`);
  }
  if (r.errors.length) {
    console.log('\nerrors:');
    for (const e of r.errors) console.log(`  ${e}`);
  }
}

// ---------------------------------------------------------------------------------------------- main

let runName = nameArg ? nameArg.slice('--name='.length) : null;

async function main() {
  ensureFileLimit();
  installExitGuards();
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${OVERALL_LIMIT_MS / 1000} s; stopping`);
    killAllChildren();
    process.exit(1);
  }, OVERALL_LIMIT_MS);
  watchdog.unref();

  fs.mkdirSync(RESULTS, { recursive: true });
  const started = new Date();
  runName ??= `bench-${started.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
  if (!/^[A-Za-z0-9._-]+$/.test(runName))
    throw new Error('--name may only contain letters, digits, ".", "_", "-"');
  const results = {
    name: runName,
    startedAt: started.toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    quick: QUICK,
    machine: await machineInfo(),
    config: CONFIG,
    targets: TARGETS,
    errors: [],
  };
  log(
    `bench ${runName}: ${results.machine.nproc} cores, ${results.machine.cpuModel}, node ${results.machine.node}`,
  );
  if (REF && DIST_DIR !== PRIVATE_DIST) throw new Error('--ref cannot be combined with --ts or --dist');
  if (REF && !/^[A-Za-z0-9_./~^@{}][A-Za-z0-9_./~^@{}-]*$/.test(REF))
    throw new Error(`--ref: not a git ref: ${REF}`);
  if (DIST_DIR === PRIVATE_DIST) {
    const what = REF ? `${REF} (git archive)` : 'the working tree';
    log(`compiling ${what} into ${path.relative(ROOT, PRIVATE_DIST)} (like npm run build, no type check)`);
    results.buildMs = buildPrivateDist();
  }
  const deletedKeys = await resetState();
  log(`reset: dropped database ${DB_NAME}, deleted ${deletedKeys} Redis keys under ${REDIS_PREFIX}:`);

  const fake = await startFakeKakao();
  const phase = async (key, fn) => {
    if (ONLY && !ONLY.includes(key)) return;
    try {
      results[key] = await fn();
    } catch (e) {
      results.errors.push(`${key}: ${e.message}`);
      log(`${key} FAILED: ${e.message}`);
    }
  };
  try {
    await phase('baseline', baselinePhase);

    let relayA = null;
    try {
      relayA = await startRelay('A', {});
      results.relayStartupMs = { A: relayA.startupMs };
      await phase('ingest', () => ingestPhase(relayA));
      await phase('latency', () => latencyPhase(relayA));
      await phase('push', () => pushPhase(relayA));
      await phase('latencyWs', () => latencyPhase(relayA, 'ws', CONFIG.latencyWsRates));
      await phase('replyCoalesced', () =>
        replyPhase(relayA, fake, { label: 'coalesced', count: CONFIG.replies.coalesced, sequential: false }),
      );
      await phase('tunnel', () => tunnelPhase(relayA));
    } catch (e) {
      results.errors.push(`relay A: ${e.message}`);
      log(`relay A FAILED: ${e.message}`);
    } finally {
      if (relayA) await relayA.stop();
    }

    let relayB = null;
    try {
      if (ONLY && !ONLY.includes('memory') && !ONLY.includes('replySync'))
        throw new Error('skipped (--only)');
      relayB = await startRelay('B', { REPLY_COALESCE_MS: '0' });
      (results.relayStartupMs ??= {}).B = relayB.startupMs;
      await phase('memory', () => memoryPhase(relayB));
      await phase('replySync', () =>
        replyPhase(relayB, fake, { label: 'sync', count: CONFIG.replies.sync, sequential: true }),
      );
    } catch (e) {
      results.errors.push(`relay B: ${e.message}`);
      log(`relay B FAILED: ${e.message}`);
    } finally {
      if (relayB) await relayB.stop();
    }
  } finally {
    await fake.close();
    killAllChildren();
  }

  results.quietChecks = quietChecks;
  results.ratios = buildRatios(results);
  results.verdicts = verdicts(results);
  results.finishedAt = new Date().toISOString();
  results.wallSeconds = round((Date.now() - started.getTime()) / 1000, 1);
  const file = path.join(RESULTS, `${runName}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  printReport(results);
  console.log(`\nwrote ${path.relative(ROOT, file)} (${results.wallSeconds} s)`);
  return results.errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`bench failed: ${e.stack || e.message}`);
    killAllChildren();
    process.exit(1);
  },
);
