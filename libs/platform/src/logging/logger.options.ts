import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { RelayConfig } from '@app/config';
import { redactUrl } from './redact-url';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * The request's id: the caller's `X-Request-Id` when it is a sane token, a new UUID otherwise; echoed in the
 * response's `X-Request-Id`.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The level of a request's "request completed" line. */
export function requestLogLevel(statusCode: number, err?: unknown): 'error' | 'warn' | 'info' {
  if (err || statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
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

/** Structured JSON request logs: one line per request with its id, never a token or secret. */
export function loggerOptions(config: RelayConfig): Params {
  return {
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
        ],
        censor: '[REDACTED]',
      },
      serializers: {
        req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => {
          const headers: Record<string, unknown> = {};
          for (const name of LOGGED_HEADERS)
            if (req.headers[name] !== undefined) headers[name] = req.headers[name];
          return { id: req.id, method: req.method, url: redactUrl(req.url), headers };
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
