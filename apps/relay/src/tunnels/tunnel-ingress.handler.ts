import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  LiveRequestRecord,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  RelayError,
  ServiceUnavailableError,
  Tunnel,
  TunnelRequestData,
  TunnelStore,
  uuidV7,
} from '@app/core';
import { RedisService } from '@app/messaging';
import {
  byteLimitLabel,
  ErrorBodyFilter,
  logRequestCompleted,
  resolveRequestId,
  securityHeaderList,
} from '@app/platform';
import { endToEndHeaders, TunnelHub, TunnelOutcome, TunnelRateWindow } from '@app/tunnels';

const PREFIX = '/webhook/';
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']);
const TARGET = /^\/webhook\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** The request log is written this often (one INSERT of every row since), and holds at most this many rows. */
const LOG_FLUSH_MS = 200;
const LOG_MAX_ROWS = 50_000;

const databaseUnavailable = () =>
  new ServiceUnavailableError(
    'DATABASE_UNAVAILABLE',
    'The relay cannot reach its database; try again.',
    undefined,
    {
      'Retry-After': '5',
    },
  );

const tunnelNotFound = () => new NotFoundError('TUNNEL_NOT_FOUND', 'No tunnel has this id.');

const OUTCOME_ERRORS: Record<Exclude<TunnelOutcome['kind'], 'response'>, () => RelayError> = {
  offline: () =>
    new ServiceUnavailableError('TUNNEL_OFFLINE', 'No program is connected to this tunnel.', undefined, {
      'Retry-After': '5',
    }),
  timeout: () => new RelayError(504, 'TUNNEL_TIMEOUT', 'The program did not answer in time.'),
  disconnected: () =>
    new RelayError(502, 'TUNNEL_DISCONNECTED', 'The program disconnected before it answered.'),
};

type Body = { kind: 'read'; bytes: Buffer } | { kind: 'too_large' } | { kind: 'aborted' };

/** Reads the body's exact bytes, up to `limit` (then reads off the rest and says so). */
function readRawBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(tooLarge ? { kind: 'too_large' } : { kind: 'read', bytes: Buffer.concat(chunks, size) }),
    );
    req.on('close', () => {
      if (!req.complete) resolve({ kind: 'aborted' });
    });
    req.on('error', () => undefined);
  });
}

/**
 * `POST|PUT|PATCH|DELETE|GET /webhook/{id}[/suffix][?query]` (websocket.md §2), before Express (as the channel
 * webhooks, `prependRequestHandler`): the body is read as bytes and passed on unchanged, which no body parser may
 * touch. In order: the tunnel (404), the declared size (413 at once, or after reading past the limit), the
 * per-tunnel minute window (429, cluster-wide through Redis, `TunnelRateWindow`) and the in-flight cap of this
 * replica (429); then live: `TunnelHub.forward` and the program's answer as it is (503/504/502 otherwise); durable:
 * stored, 202. Every request gets a row in the request log (never its body, except a durable one's until answered
 * and retained).
 */
@Injectable()
export class TunnelIngressHandler implements OnApplicationShutdown {
  private readonly logger = new Logger('TunnelIngress');
  private readonly baseHeaders: readonly string[] = securityHeaderList();
  private readonly inFlight = new Map<string, number>();
  /** The live requests' log rows, written every LOG_FLUSH_MS in one INSERT (a log needs no immediacy). */
  private logRows: LiveRequestRecord[] = [];
  private logTimer: NodeJS.Timeout | null = null;
  private readonly rate: TunnelRateWindow;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly store: TunnelStore,
    private readonly hub: TunnelHub,
    private readonly redis: RedisService,
    private readonly errors: ErrorBodyFilter,
  ) {
    this.rate = new TunnelRateWindow(redis);
  }

  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = req.url;
    if (!url || !url.startsWith(PREFIX) || !METHODS.has(req.method ?? '')) return next();
    const match = TARGET.exec(url);
    if (!match) return next();
    const started = performance.now();
    const requestId = resolveRequestId(req);
    this.handle(req, res, match, started, requestId)
      .catch((e: unknown) => this.sendError(res, requestId, e))
      .then(() => logRequestCompleted(req, res, requestId, started))
      .catch(() => undefined);
  };

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    match: RegExpExecArray,
    started: number,
    requestId: string,
  ): Promise<void> {
    const id = match[1];
    const path = (match[2] ?? '/') + (match[3] ?? '');
    const limit = this.config.tunnelMaxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      res.shouldKeepAlive = false;
      throw new PayloadTooLargeError(byteLimitLabel(limit));
    }
    const tunnel = UUID.test(id)
      ? await this.hub.lookup(id.toLowerCase()).catch(() => {
          req.resume();
          throw databaseUnavailable();
        })
      : null;
    if (!tunnel) {
      req.resume();
      throw tunnelNotFound();
    }
    const body = await readRawBody(req, limit);
    if (body.kind === 'aborted') return;
    if (body.kind === 'too_large') throw new PayloadTooLargeError(byteLimitLabel(limit));
    this.admit(tunnel);
    const request: TunnelRequestData = {
      id: uuidV7(),
      method: req.method as string,
      path,
      headers: endToEndHeaders(req.rawHeaders),
      body: body.bytes,
    };
    if (tunnel.mode === 'durable') {
      await this.store.storeDurable(tunnel.id, request).catch(() => {
        throw databaseUnavailable();
      });
      void this.hub.wake(tunnel.id);
      this.hub.noteActivity(tunnel.id);
      this.sendJson(res, requestId, 202, { id: request.id, status: 'queued' });
      return;
    }
    const count = this.inFlight.get(tunnel.id) ?? 0;
    if (count >= this.config.tunnelMaxInFlight) {
      throw new RateLimitedError(
        `This tunnel has ${this.config.tunnelMaxInFlight} requests waiting for the program; try again shortly.`,
        { 'Retry-After': '1' },
      );
    }
    this.inFlight.set(tunnel.id, count + 1);
    let outcome: TunnelOutcome;
    try {
      outcome = await this.hub.forward(tunnel.id, request);
    } finally {
      const left = (this.inFlight.get(tunnel.id) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(tunnel.id);
      else this.inFlight.set(tunnel.id, left);
    }
    const status =
      outcome.kind === 'response' ? outcome.response.status : OUTCOME_ERRORS[outcome.kind]().statusCode;
    this.logRow({
      id: request.id,
      tunnelId: tunnel.id,
      method: request.method,
      path,
      status,
      state: outcome.kind === 'response' ? 'answered' : 'failed',
      latencyMs: Math.round(performance.now() - started),
      sizeBytes: request.body.length,
    });
    this.hub.noteActivity(tunnel.id);
    if (outcome.kind !== 'response') throw OUTCOME_ERRORS[outcome.kind]();
    const { response } = outcome;
    if (res.headersSent) return;
    const headers: string[] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) headers.push(name, v);
    }
    headers.push('content-length', String(response.body.length));
    try {
      res.writeHead(response.status, headers);
    } catch {
      throw OUTCOME_ERRORS.disconnected();
    }
    res.end(response.body);
  }

  /** The per-tunnel minute window (cluster-wide, synchronised through Redis every 100 ms; see TunnelRateWindow). */
  private admit(tunnel: Tunnel): void {
    const retryAfter = this.rate.admit(tunnel.id, this.config.tunnelRequestsPerMinute);
    if (retryAfter !== null) {
      throw new RateLimitedError(
        `This tunnel takes at most ${this.config.tunnelRequestsPerMinute} requests per minute.`,
        { 'Retry-After': String(retryAfter) },
      );
    }
  }

  private logRow(row: LiveRequestRecord): void {
    if (this.logRows.length >= LOG_MAX_ROWS) return;
    this.logRows.push(row);
    if (!this.logTimer) {
      this.logTimer = setTimeout(() => void this.flushLog(), LOG_FLUSH_MS);
      this.logTimer.unref();
    }
  }

  /** Writes the waiting log rows (also at shutdown, so a clean stop loses none). */
  async flushLog(): Promise<void> {
    if (this.logTimer) clearTimeout(this.logTimer);
    this.logTimer = null;
    while (this.logRows.length > 0) {
      const rows = this.logRows.splice(0, 1000);
      await this.store
        .recordLive(rows)
        .catch((e: Error) => this.logger.warn(`tunnel request log: ${rows.length} rows lost: ${e.message}`));
    }
  }

  onApplicationShutdown(): Promise<void> {
    this.rate.clear();
    return this.flushLog();
  }

  private sendError(res: ServerResponse, requestId: string, e: unknown): void {
    if (!(e instanceof RelayError)) this.logger.error(`tunnel request failed: ${(e as Error).message}`);
    const { body, headers } = this.errors.toBody(e);
    this.sendJson(res, requestId, body.statusCode, body, headers);
  }

  private sendJson(
    res: ServerResponse,
    requestId: string,
    status: number,
    body: unknown,
    extra?: Record<string, string>,
  ): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    const headers = this.baseHeaders.concat(
      'X-Request-Id',
      requestId,
      'Content-Type',
      JSON_CONTENT_TYPE,
      'Content-Length',
      String(Buffer.byteLength(text)),
    );
    if (extra) for (const name in extra) headers.push(name, extra[name]);
    res.writeHead(status, headers);
    res.end(text);
  }
}
