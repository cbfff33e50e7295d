// A relative path: the tests' global setup loads this file without the @app aliases.
import { parseCallbackHostEntry } from '@app/core/callback-url-policy';
import { MAX_KAKAO_ID_LENGTH } from '@app/core/kakao';
import { rsaPrivateKeyProblem } from '@app/core/secrets/rsa-private-key';
import { parseSecretsKey } from '@app/core/secrets/secret-box';
import { readFileSync } from 'node:fs';
import { parseTrustProxy, TrustProxy } from './trust-proxy';

/**
 * The relay's configuration: every environment variable of the relay contract (§6) plus the few
 * deployment knobs of our own, parsed once at start into one typed, frozen object.
 */
export interface RelayConfig {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  logLevel: LogLevel;
  adminToken: string | undefined;
  kakaoSkillSecret: string | undefined;
  kakaoSignatureSecret: string | undefined;
  callbackTtlSeconds: number;
  queueTtlSeconds: number;
  sessionTtlSeconds: number;
  messageRetentionDays: number;
  sseHeartbeatSeconds: number;
  inlineReplyTimeoutMs: number;
  replyCoalesceMs: number;
  rateLimitRepliesPerMinute: number;
  kakaoCallbackAllowedHosts: string[];
  kakaoCallbackAllowHttp: boolean;
  /** `KAKAO_ALLOWED_BOT_IDS`: the webhook refuses other `bot.id`s with 403; null = any bot. */
  kakaoAllowedBotIds: string[] | null;
  /** Which peers may name the client in `X-Forwarded-For` (see `parseTrustProxy`). */
  trustProxy: TrustProxy;
  /** Run the BullMQ processors and scheduled jobs inside the relay process (single-machine install). */
  workerInProcess: boolean;
  /** HTTP port of the standalone worker (health endpoints only). */
  workerPort: number;
  /** Maximum PostgreSQL connections per process. */
  databasePoolSize: number;
  /** Prefix for every Redis key and channel the relay owns (queues, pub/sub, locks). */
  redisPrefix: string;
  /** Serve /metrics without the admin token. */
  metricsPublic: boolean;
  /** How often the cleanup jobs run. */
  cleanupIntervalSeconds: number;
  /** The request line and headers must arrive within this (slow clients get 408). */
  httpHeadersTimeoutMs: number;
  /** The whole request must arrive within this (SSE streams are not affected: their request is complete). */
  httpRequestTimeoutMs: number;
  /**
   * How long a kept-alive connection may stay idle between requests before the relay closes it: longer than the
   * clients and proxies that reuse connections wait (60 s for the common load balancers), so they close first.
   */
  httpKeepAliveTimeoutMs: number;
  /** Messages waiting for the store's next batch, per process; beyond it the webhook answers "busy". */
  storeQueueMax: number;
  /** Kakao users' messages allowed per conversation per minute before the relay asks them to slow down. */
  webhookUserMessagesPerMinute: number;
  /** POST /v1/sessions/create per IP per 5 minutes. */
  rateLimitSessionCreatesPer5Min: number;
  /** GET /v1/sessions/{token}/status per IP per minute. */
  rateLimitSessionStatusPerMinute: number;
  /** GET /v1/events connects per token per minute. */
  rateLimitStreamConnectsPerMinute: number;
  /** `POST /v1/auth/token` requests per client address per minute (counted before the keys are checked). */
  rateLimitAuthTokenPerMinute: number;
  /** Open agent streams per token (cluster-wide); one more closes the oldest with `STREAM_REPLACED`. */
  maxStreamsPerToken: number;
  /** Open agent streams per client address (cluster-wide); one more is refused with 429. */
  maxStreamsPerIp: number;
  /** Unsent bytes a stream may hold before it is closed (the agent resumes with Last-Event-ID). */
  streamMaxBufferBytes: number;
  /** `WORKS_API_BASE_URL`: the Naver Works API the send path posts messages to (works-channel.md §3). */
  worksApiBaseUrl: string;
  /** `WORKS_AUTH_URL`: the Works OAuth token endpoint (service-account JWT grant). */
  worksAuthUrl: string;
  /** `WORKS_SEND_RETRY_SECONDS`: how long a Works send keeps retrying 429/5xx/network failures. */
  worksSendRetrySeconds: number;
  /**
   * `RELAY_SECRETS_KEY`, checked (32 bytes as hex/base64, or a passphrase of 32+ characters): encrypts the
   * secrets stored at rest. Optional at start; storing a secret without it is refused (`SECRETS_KEY_MISSING`).
   */
  relaySecretsKey: string | undefined;
  /**
   * `JWT_SECRET` (32+ characters): the HS256 key of the API-key tokens. Unset: a key made on first start and kept
   * in the database (`relay_settings`), shared by every replica.
   */
  jwtSecret: string | undefined;
  /** `PUSH_ALLOW_HTTP`: push endpoints may be plain `http://` on any port (local testing only). */
  pushAllowHttp: boolean;
  /** `PUSH_ALLOWED_PRIVATE_HOSTS`: hosts (literal entries) a push endpoint may name although they are private. */
  pushAllowedPrivateHosts: string[];
  /** `PUSH_TIMEOUT_MS`: how long one push delivery attempt waits for the receiver's answer (spec: 10 s). */
  pushTimeoutMs: number;
  /** `PUSH_RETRY_SCALE`: multiplies the push retry schedule (5 s … 1 h); tests shrink it, 1 in production. */
  pushRetryScale: number;
  /** `PUBLIC_BASE_URL`: the relay's public origin for the tunnels' webhook URLs; unset: the request's own origin. */
  publicBaseUrl: string | undefined;
  /** `TUNNEL_ANONYMOUS`: `GET /new` issues a live tunnel without an account (the original tool's way). */
  tunnelAnonymous: boolean;
  /** `TUNNEL_RESPONSE_TIMEOUT_MS`: how long a live tunnel request waits for the program's answer (then 504). */
  tunnelResponseTimeoutMs: number;
  /** `TUNNEL_RETENTION_HOURS`: how long a tunnel's request log (and a durable tunnel's stored requests) is kept. */
  tunnelRetentionHours: number;
  /** `TUNNEL_MAX_BODY_BYTES`: the largest body a tunnel takes (413 beyond). */
  tunnelMaxBodyBytes: number;
  /** `TUNNEL_IDLE_DAYS`: tunnels with no connection and no traffic this long are removed by the cleanup job. */
  tunnelIdleDays: number;
  /** `TUNNEL_REQUESTS_PER_MINUTE`: requests per tunnel per minute (cluster-wide; 429 beyond). */
  tunnelRequestsPerMinute: number;
  /** `TUNNEL_MAX_IN_FLIGHT`: live requests of one tunnel waiting for their answer, per replica (429 beyond). */
  tunnelMaxInFlight: number;
  /** `TUNNEL_MAX_PER_ACCOUNT`: tunnels one account may hold (409 beyond). */
  tunnelMaxPerAccount: number;
  /** The one Works bot of the `WORKS_*` variables (a one-bot install), or null; never stored in the database. */
  worksBot: WorksBotSettings | null;
  /**
   * `LATE_REPLIES` (server-mode §4): `hold` keeps a Kakao reply that came after the callback was used or expired
   * and delivers it later; `reject` answers 409 as relay-contract §5 did.
   */
  lateReplies: 'hold' | 'reject';
  /** `HELD_ANSWER_TTL_HOURS`: a held answer not delivered within this expires. */
  heldAnswerTtlHours: number;
  /** `KAKAO_EVENT_API_BASE_URL`: Kakao's Event API (server-mode §6), no trailing slash. */
  kakaoEventApiBaseUrl: string;
  /** `RATE_LIMIT_MESSAGES_PER_MINUTE`: proactive `POST /v1/messages` per account per minute. */
  rateLimitMessagesPerMinute: number;
}

/** The `WORKS_*` variables of a one-bot install, the private key read from `WORKS_PRIVATE_KEY_FILE` at start. */
export interface WorksBotSettings {
  botId: string;
  botSecret: string;
  clientId: string;
  clientSecret: string;
  serviceAccount: string;
  privateKeyFile: string;
  privateKey: string;
}

/** The variables of a one-bot Works install: all set, or none. */
export const WORKS_BOT_VARIABLES = [
  'WORKS_BOT_ID',
  'WORKS_BOT_SECRET',
  'WORKS_CLIENT_ID',
  'WORKS_CLIENT_SECRET',
  'WORKS_SERVICE_ACCOUNT',
  'WORKS_PRIVATE_KEY_FILE',
] as const;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_DATABASE_URL = 'postgres://postgres:postgres@127.0.0.1:5432/kakao_relay';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_WORKS_API_BASE_URL = 'https://www.worksapis.com/v1.0';
export const DEFAULT_WORKS_AUTH_URL = 'https://auth.worksmobile.com/oauth2/v2.0/token';
export const DEFAULT_KAKAO_EVENT_API_BASE_URL = 'https://bot-api.kakao.com';
export const DEFAULT_ALLOWED_HOSTS = '*.kakao.com,*.kakaocdn.net,*.kakaoenterprise.com';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.problems.push(`${name} must be an integer, got "${value}"`);
      return fallback;
    }
    const n = Number(value);
    if (n < min || n > max) {
      this.problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
      return fallback;
    }
    return n;
  }

  float(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) {
      this.problems.push(`${name} must be a number, got "${value}"`);
      return fallback;
    }
    if (n < min || n > max) {
      this.problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    this.problems.push(`${name} must be true or false, got "${value}"`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.raw(name) ?? fallback;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problems.push(`${name} is not a valid URL`);
      return fallback;
    }
    if (!protocols.includes(parsed.protocol)) {
      this.problems.push(`${name} must use ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`);
      return fallback;
    }
    if (!parsed.hostname) this.problems.push(`${name} must name a host`);
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase() as T;
    if (!allowed.includes(lower)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return fallback;
    }
    return lower;
  }

  trustProxy(name: string): TrustProxy {
    const { value, problems } = parseTrustProxy(name, this.raw(name));
    this.problems.push(...problems);
    return value;
  }

  secret(name: string, minLength: number): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && value.length < minLength) {
      this.problems.push(`${name} must be at least ${minLength} characters long`);
    }
    return value;
  }
}

/** `host`, `*.suffix`, `host:port`, `[v6]` or `[v6]:port` (the callback policy's own parser decides). */
function parseHostList(reader: EnvReader, name: string, fallback: string, required = true): string[] {
  const value = reader.string(name, fallback) ?? fallback;
  const hosts = value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
  const bad = hosts.filter((h) => parseCallbackHostEntry(h) === null);
  if (bad.length > 0) reader.problems.push(`${name} has invalid host entries: ${bad.join(', ')}`);
  if (required && hosts.length === 0) reader.problems.push(`${name} must list at least one host`);
  return hosts;
}

function parseBotIds(reader: EnvReader, name: string): string[] | null {
  const value = reader.string(name);
  if (value === undefined) return null;
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0) reader.problems.push(`${name} must list at least one bot id when set`);
  const long = ids.filter((id) => id.length > MAX_KAKAO_ID_LENGTH);
  if (long.length > 0) {
    reader.problems.push(`${name} has ids longer than ${MAX_KAKAO_ID_LENGTH} characters`);
  }
  return ids;
}

function parseSecretsKeySetting(reader: EnvReader, name: string): string | undefined {
  const value = reader.string(name);
  if (value === undefined) return undefined;
  try {
    parseSecretsKey(value);
  } catch (e) {
    reader.problems.push((e as Error).message);
  }
  return value;
}

/** Reads a file's text at start (`WORKS_PRIVATE_KEY_FILE`); replaceable in tests. */
export type ReadTextFile = (path: string) => string;
const readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8');

function parseWorksBot(reader: EnvReader, readFile: ReadTextFile): WorksBotSettings | null {
  const values = WORKS_BOT_VARIABLES.map((name) => reader.string(name));
  const missing = WORKS_BOT_VARIABLES.filter((_, i) => values[i] === undefined);
  if (missing.length === WORKS_BOT_VARIABLES.length) return null;
  if (missing.length > 0) {
    reader.problems.push(
      `a one-bot Works install needs all of ${WORKS_BOT_VARIABLES.join(', ')}; missing: ${missing.join(', ')}`,
    );
  }
  const [botId, botSecret, clientId, clientSecret, serviceAccount, privateKeyFile] = values;
  if (botId !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(botId)) {
    reader.problems.push('WORKS_BOT_ID may only contain letters, digits, ".", "_" and "-" (at most 100)');
  }
  let privateKey = '';
  if (privateKeyFile !== undefined) {
    try {
      privateKey = readFile(privateKeyFile);
      const problem = rsaPrivateKeyProblem(privateKey);
      if (problem) reader.problems.push(`WORKS_PRIVATE_KEY_FILE (${privateKeyFile}) ${problem}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      reader.problems.push(`WORKS_PRIVATE_KEY_FILE (${privateKeyFile}) cannot be read (${code})`);
    }
  }
  if (missing.length > 0) return null;
  return {
    botId: botId as string,
    botSecret: botSecret as string,
    clientId: clientId as string,
    clientSecret: clientSecret as string,
    serviceAccount: serviceAccount as string,
    privateKeyFile: privateKeyFile as string,
    privateKey,
  };
}

/** `PUBLIC_BASE_URL`: an http(s) origin (a path is kept, a trailing slash dropped), or undefined. */
function parsePublicBaseUrl(r: EnvReader, name: string): string | undefined {
  const value = r.string(name);
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    if (url.search || url.hash) throw new Error('query');
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    r.problems.push(`${name} must be an http(s) URL without query, e.g. https://relay.example.com`);
    return undefined;
  }
}

/** Parses the environment into a RelayConfig, or throws one ConfigValidationError listing every problem. */
export function parseConfig(env: Env = process.env, readFile: ReadTextFile = readTextFile): RelayConfig {
  const r = new EnvReader(env);
  const config: RelayConfig = {
    port: r.int('PORT', 8080, 0, 65535),
    databaseUrl: r.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
    redisUrl: r.url('REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
    logLevel: r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    adminToken: r.secret('ADMIN_TOKEN', 16),
    kakaoSkillSecret: r.secret('KAKAO_SKILL_SECRET', 8),
    kakaoSignatureSecret: r.secret('KAKAO_SIGNATURE_SECRET', 8),
    callbackTtlSeconds: r.int('CALLBACK_TTL_SECONDS', 55, 1, 3600),
    queueTtlSeconds: r.int('QUEUE_TTL_SECONDS', 900, 1, 7 * 86400),
    sessionTtlSeconds: r.int('SESSION_TTL_SECONDS', 300, 1, 86400),
    messageRetentionDays: r.int('MESSAGE_RETENTION_DAYS', 7, 1, 3650),
    sseHeartbeatSeconds: r.int('SSE_HEARTBEAT_SECONDS', 15, 1, 3600),
    inlineReplyTimeoutMs: r.int('INLINE_REPLY_TIMEOUT_MS', 4000, 0, 4900),
    replyCoalesceMs: r.int('REPLY_COALESCE_MS', 1200, 0, 30000),
    rateLimitRepliesPerMinute: r.int('RATE_LIMIT_REPLIES_PER_MINUTE', 120, 1, 1_000_000),
    kakaoCallbackAllowedHosts: parseHostList(r, 'KAKAO_CALLBACK_ALLOWED_HOSTS', DEFAULT_ALLOWED_HOSTS),
    kakaoCallbackAllowHttp: r.bool('KAKAO_CALLBACK_ALLOW_HTTP', false),
    kakaoAllowedBotIds: parseBotIds(r, 'KAKAO_ALLOWED_BOT_IDS'),
    trustProxy: r.trustProxy('TRUST_PROXY'),
    workerInProcess: r.bool('WORKER_IN_PROCESS', true),
    workerPort: r.int('WORKER_PORT', 8081, 0, 65535),
    databasePoolSize: r.int('DATABASE_POOL_SIZE', 20, 1, 500),
    redisPrefix: r.string('REDIS_PREFIX', 'kakao-relay') ?? 'kakao-relay',
    metricsPublic: r.bool('METRICS_PUBLIC', false),
    cleanupIntervalSeconds: r.int('CLEANUP_INTERVAL_SECONDS', 300, 1, 86400),
    httpHeadersTimeoutMs: r.int('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    httpRequestTimeoutMs: r.int('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    httpKeepAliveTimeoutMs: r.int('HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 1000, 3_600_000),
    storeQueueMax: r.int('STORE_QUEUE_MAX', 2048, 1, 1_000_000),
    webhookUserMessagesPerMinute: r.int('WEBHOOK_USER_MESSAGES_PER_MINUTE', 20, 1, 1_000_000),
    rateLimitSessionCreatesPer5Min: r.int('RATE_LIMIT_SESSION_CREATES_PER_5_MIN', 10, 1, 1_000_000),
    rateLimitSessionStatusPerMinute: r.int('RATE_LIMIT_SESSION_STATUS_PER_MINUTE', 30, 1, 1_000_000),
    rateLimitStreamConnectsPerMinute: r.int('RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE', 30, 1, 1_000_000),
    rateLimitAuthTokenPerMinute: r.int('RATE_LIMIT_AUTH_TOKEN_PER_MINUTE', 30, 1, 1_000_000),
    maxStreamsPerToken: r.int('MAX_STREAMS_PER_TOKEN', 3, 1, 100_000),
    maxStreamsPerIp: r.int('MAX_STREAMS_PER_IP', 50, 1, 1_000_000),
    streamMaxBufferBytes: r.int('STREAM_MAX_BUFFER_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    worksApiBaseUrl: r
      .url('WORKS_API_BASE_URL', DEFAULT_WORKS_API_BASE_URL, ['https:', 'http:'])
      .replace(/\/+$/, ''),
    worksAuthUrl: r.url('WORKS_AUTH_URL', DEFAULT_WORKS_AUTH_URL, ['https:', 'http:']),
    worksSendRetrySeconds: r.int('WORKS_SEND_RETRY_SECONDS', 600, 1, 86400),
    relaySecretsKey: parseSecretsKeySetting(r, 'RELAY_SECRETS_KEY'),
    jwtSecret: r.secret('JWT_SECRET', 32),
    pushAllowHttp: r.bool('PUSH_ALLOW_HTTP', false),
    pushAllowedPrivateHosts: parseHostList(r, 'PUSH_ALLOWED_PRIVATE_HOSTS', '', false),
    pushTimeoutMs: r.int('PUSH_TIMEOUT_MS', 10_000, 50, 60_000),
    pushRetryScale: r.float('PUSH_RETRY_SCALE', 1, 0.0001, 1),
    worksBot: parseWorksBot(r, readFile),
    lateReplies: r.oneOf('LATE_REPLIES', 'hold', ['hold', 'reject'] as const),
    heldAnswerTtlHours: r.int('HELD_ANSWER_TTL_HOURS', 72, 1, 24 * 365),
    kakaoEventApiBaseUrl: r
      .url('KAKAO_EVENT_API_BASE_URL', DEFAULT_KAKAO_EVENT_API_BASE_URL, ['https:', 'http:'])
      .replace(/\/+$/, ''),
    rateLimitMessagesPerMinute: r.int('RATE_LIMIT_MESSAGES_PER_MINUTE', 60, 1, 1_000_000),
    publicBaseUrl: parsePublicBaseUrl(r, 'PUBLIC_BASE_URL'),
    tunnelAnonymous: r.bool('TUNNEL_ANONYMOUS', false),
    tunnelResponseTimeoutMs: r.int('TUNNEL_RESPONSE_TIMEOUT_MS', 25_000, 100, 600_000),
    tunnelRetentionHours: r.int('TUNNEL_RETENTION_HOURS', 72, 1, 24 * 3650),
    tunnelMaxBodyBytes: r.int('TUNNEL_MAX_BODY_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024),
    tunnelIdleDays: r.int('TUNNEL_IDLE_DAYS', 30, 1, 3650),
    tunnelRequestsPerMinute: r.int('TUNNEL_REQUESTS_PER_MINUTE', 600, 1, 10_000_000),
    tunnelMaxInFlight: r.int('TUNNEL_MAX_IN_FLIGHT', 100, 1, 1_000_000),
    tunnelMaxPerAccount: r.int('TUNNEL_MAX_PER_ACCOUNT', 20, 1, 100_000),
  };
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(config.redisPrefix)) {
    r.problems.push('REDIS_PREFIX may only contain letters, digits, "_", "-" and "." (at most 64)');
  }
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    r.problems.push('HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS');
  }
  if (r.problems.length > 0) throw new ConfigValidationError(r.problems);
  return Object.freeze(config);
}
