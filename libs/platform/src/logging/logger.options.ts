import { RequestMethod } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Params, PinoLogger } from 'nestjs-pino';
import { performance } from 'node:perf_hooks';
import type { RelayConfig } from '@app/config';
import { redactUrl } from './redact-url';

/** The agent stream's route: held open for hours, so whatever it keeps per request is multiplied by thousands. */
export const STREAM_ROUTE = '/v1/events';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** The request's id: the caller's `X-Request-Id` when it is a sane token, a new UUID otherwise. */
export function resolveRequestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** `resolveRequestId`, echoed in the response's `X-Request-Id`. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const id = resolveRequestId(req);
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The level of a request's "request completed" line. */
export function requestLogLevel(statusCode: number, err?: unknown): 'error' | 'warn' | 'info' {
  if (err || statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
}

/**
 * The "request completed" line pino-http would write, for requests that do not go through it (the webhook's
 * fast path, agent streams): same logger, same serializers, same level rule.
 */
export function logRequestCompleted(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  startedMs: number,
): void {
  const logger = PinoLogger.root;
  const level = requestLogLevel(res.statusCode);
  if (!logger?.isLevelEnabled(level)) return;
  (req as IncomingMessage & { id?: unknown }).id = id;
  logger[level]({ req, res, responseTime: Math.round(performance.now() - startedMs) }, 'request completed');
}

/**
 * The "request completed" line of a WebSocket upgrade (there is no `ServerResponse`): the status answered (101,
 * or the refusal's), written when the socket closes or the upgrade was refused; `fields` adds e.g. the close code.
 */
export function logUpgradeCompleted(
  req: IncomingMessage,
  statusCode: number,
  id: string,
  startedMs: number,
  fields: Record<string, unknown> = {},
): void {
  const logger = PinoLogger.root;
  const level = requestLogLevel(statusCode);
  if (!logger?.isLevelEnabled(level)) return;
  (req as IncomingMessage & { id?: unknown }).id = id;
  const res = { statusCode, headersSent: true };
  logger[level](
    { req, res, responseTime: Math.round(performance.now() - startedMs), ...fields },
    'request completed',
  );
}

/** Request headers worth a log line; the secret ones among them are redacted below. */
const LOGGED_HEADERS = [
  'user-agent',
  'content-length',
  'content-type',
  'authorization',
  'x-relay-skill-secret',
  'x-kakao-signature',
];

/**
 * The write-only fields of the admin API (a Works bot's secrets and private key) and the secret key of a new
 * API key (shown once). The `x-api-key` and `x-secret-key` headers are not among `LOGGED_HEADERS`.
 */
const WRITE_ONLY_FIELDS = ['botSecret', 'clientSecret', 'privateKey', 'secretKey'];

/** Structured JSON request logs: one line per request with its id, never a token or secret. */
export function loggerOptions(config: RelayConfig): Params {
  return {
    // Agent streams write their own line (`logRequestCompleted`, from the events module): pino-http's child
    // logger per request would be held for as long as the stream is open (≈2 KiB per stream).
    exclude: [{ path: STREAM_ROUTE.slice(1), method: RequestMethod.GET }],
    pinoHttp: {
      level: config.logLevel,
      genReqId: requestId,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-relay-skill-secret"]',
          'req.headers["x-kakao-signature"]',
          'res.headers["set-cookie"]',
          // Request bodies are never logged (the req serializer keeps none); should an object holding a Works
          // bot's secrets reach a log line anyway, these fields are censored (one and two levels deep).
          ...WRITE_ONLY_FIELDS,
          ...WRITE_ONLY_FIELDS.map((f) => `*.${f}`),
        ],
        censor: '[REDACTED]',
      },
      serializers: {
        req: (req: {
          id: unknown;
          method: string;
          url: string;
          headers: Record<string, unknown>;
          raw?: { originalUrl?: string; url?: string };
        }) => {
          const headers: Record<string, unknown> = {};
          for (const name of LOGGED_HEADERS)
            if (req.headers[name] !== undefined) headers[name] = req.headers[name];
          // The URL as the client sent it (pino's own choice is Express's `req.path`, without the query when the
          // router has not run, as on the webhook's fast path): redacted either way.
          const url = req.raw?.originalUrl ?? req.raw?.url ?? req.url;
          return { id: req.id, method: req.method, url: redactUrl(url), headers };
        },
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => requestLogLevel(res.statusCode, err),
      autoLogging: {
        ignore: (req) => req.url === '/health' || req.url === '/health/ready' || req.url === '/metrics',
      },
    },
  };
}
