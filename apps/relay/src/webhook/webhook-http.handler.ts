import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PinoLogger } from 'nestjs-pino';
import { ChannelAdapter, ChannelAnswer, ChannelRequest } from '@app/core';
import {
  ErrorBodyFilter,
  JsonRequestBody,
  logRequestCompleted,
  readJsonRequestBody,
  resolveRequestId,
  securityHeaderList,
} from '@app/platform';
import { CHANNEL_ADAPTERS } from './channel-adapters';
import { InboundService } from './inbound.service';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Every request to a channel's webhook (`POST /kakao/webhook`, and each adapter's path), without Express, Nest's
 * router, helmet's middleware and pino-http: the busiest route of the relay, where that machinery cost about a third
 * of the CPU of a message (docs/benchmarks.md). Put in front of Express itself (`createRelayApp`,
 * `prependRequestHandler`), it takes every `POST` to an adapter's path — any spelling Express would route there
 * (letter case, a trailing slash, a query) and any body: Content-Length or chunked, compressed, UTF-8 or UTF-16
 * — and hands every other request to Express, unread. One pipeline, in this order:
 *
 * 1. the body (`readJsonRequestBody`: the JSON body middleware's rules; over the adapter's limit → 413 at once),
 * 2. `ChannelAdapter.authenticate` before the body is judged (a 400/415 body error is raised only after it),
 * 3. `ChannelAdapter.parse`, then the core (`InboundService.handle`: admission, commands, limits, storing,
 *    hand-off), then `ChannelAdapter.answer`,
 * 4. the answer, or the uniform error body (`ErrorBodyFilter.toBody`), with the relay's global concerns: helmet's
 *    security headers (computed once at start, `securityHeaderList`), `X-Request-Id` (the caller's when sane), one
 *    "request completed" log line at the level pino-http would use, and the webhook metrics (in the core).
 */
@Injectable()
export class WebhookHttpHandler {
  /** Lower-case path → adapter, with and without a trailing slash. */
  private readonly routes = new Map<string, ChannelAdapter>();
  private readonly longestPath: number;
  /** Headers of every answer, as `writeHead` takes them; the per-answer ones are appended to a copy. */
  private readonly baseHeaders: readonly string[] = securityHeaderList();

  constructor(
    @Inject(CHANNEL_ADAPTERS) adapters: readonly ChannelAdapter[],
    private readonly inbound: InboundService,
    private readonly errors: ErrorBodyFilter,
  ) {
    for (const adapter of adapters) {
      const path = adapter.path.toLowerCase().replace(/\/+$/, '');
      if (!path.startsWith('/') || path.includes('?')) {
        throw new Error(
          `channel ${adapter.channel}: webhook path "${adapter.path}" must be a plain absolute path`,
        );
      }
      for (const spelling of [path, `${path}/`]) {
        if (this.routes.has(spelling)) {
          throw new Error(`channel ${adapter.channel}: webhook path "${adapter.path}" is taken already`);
        }
        this.routes.set(spelling, adapter);
      }
    }
    this.longestPath = Math.max(0, ...[...this.routes.keys()].map((p) => p.length));
  }

  /** `(req, res, next)`: answers the webhook requests, calls `next` for every other one. */
  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const adapter = req.method === 'POST' ? this.adapterFor(req.url) : undefined;
    if (!adapter) return next();
    const started = performance.now();
    const id = resolveRequestId(req);
    readJsonRequestBody(req, adapter.bodyLimitBytes)
      .then(async (body) => {
        // The client went away mid-body: nothing to answer, nothing stored.
        if (body.kind === 'aborted') return;
        this.send(res, id, await this.answer(adapter, req, body));
        logRequestCompleted(req, res, id, started);
      })
      .catch((e: unknown) => {
        PinoLogger.root?.error({ err: e }, 'webhook answer failed');
        if (!res.headersSent) res.destroy();
      });
  };

  /** The adapter whose path this request target names (as Express would route it), if any. */
  private adapterFor(url: string | undefined): ChannelAdapter | undefined {
    if (!url) return undefined;
    const query = url.indexOf('?');
    let path = query === -1 ? url : url.slice(0, query);
    const exact = this.routes.get(path);
    if (exact) return exact;
    if (path.charCodeAt(0) !== 0x2f) {
      // An absolute-form target (`POST http://host/kakao/webhook`): Express routes it by its path.
      const authority = path.indexOf('//');
      const slash = authority === -1 ? -1 : path.indexOf('/', authority + 2);
      if (slash === -1) return undefined;
      path = path.slice(slash);
    }
    return path.length > this.longestPath ? undefined : this.routes.get(path.toLowerCase());
  }

  private async answer(
    adapter: ChannelAdapter,
    req: IncomingMessage,
    body: Exclude<JsonRequestBody, { kind: 'aborted' }>,
  ): Promise<ChannelAnswer> {
    try {
      if (body.kind === 'too_large') throw body.error;
      const request: ChannelRequest = { headers: req.headers, rawBody: body.raw };
      // Authentication first: an unauthenticated caller learns nothing about how its body was judged.
      const authenticated = adapter.authenticate(request);
      if (authenticated) await authenticated;
      if (body.error) throw body.error;
      return await this.inbound.handle(adapter, adapter.parse(body.value, request));
    } catch (e) {
      const { body: error, headers } = this.errors.toBody(e);
      return { status: error.statusCode, body: error, headers };
    }
  }

  private send(res: ServerResponse, id: string, answer: ChannelAnswer): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(answer.body);
    const headers = this.baseHeaders.concat(
      'X-Request-Id',
      id,
      'Content-Type',
      JSON_CONTENT_TYPE,
      'Content-Length',
      String(Buffer.byteLength(text)),
    );
    if (answer.headers) for (const name in answer.headers) headers.push(name, answer.headers[name]);
    res.writeHead(answer.status, headers);
    res.end(text);
  }
}
