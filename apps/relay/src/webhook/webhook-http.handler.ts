import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { KakaoSkillPayload } from '@app/core';
import { decodeJsonBody, ErrorBodyFilter, logRequestCompleted, requestId } from '@app/platform';
import { verifySkillRequest } from './skill-auth';
import { SkillPayloadPipe } from './skill-payload.pipe';
import { WebhookService } from './webhook.service';

/** The webhook's body limit, for both the Nest route's parser and (in bytes) this handler. */
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;
export const WEBHOOK_BODY_LIMIT = `${WEBHOOK_BODY_LIMIT_BYTES / 1024 / 1024}mb`;

/** Content types the fast path reads itself; every other one goes to the Nest route, which knows them all. */
const PLAIN_JSON = new Set(['application/json', 'application/json;charset=utf-8']);

/**
 * `POST /kakao/webhook` without Express, Nest's router, helmet and pino-http: the busiest route of the relay,
 * where that machinery cost about a third of the CPU of a message (docs/benchmarks.md). Put in front of
 * Express itself (`createRelayApp`, `prependRequestHandler`); it takes only the ordinary Kakao request — an
 * identity-encoded UTF-8 JSON body with a Content-Length within the limit — and hands every other request
 * (chunked, compressed, another charset or type, too large, another path spelling) to the Nest route
 * `KakaoWebhookController`, unread. Same steps and same answers as that route: authentication before the body
 * is judged, `SkillPayloadPipe`, `WebhookService.handle`, the uniform error body, `X-Request-Id`, one
 * "request completed" log line at the level pino-http would use.
 */
@Injectable()
export class WebhookHttpHandler {
  private readonly errors = new ErrorBodyFilter();
  private readonly pipe = new SkillPayloadPipe();

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly webhook: WebhookService,
  ) {}

  /** `(req, res, next)`: answers the requests it takes, calls `next` for every other one. */
  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!this.takes(req)) return next();
    const started = performance.now();
    const id = requestId(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body: nothing to answer, nothing stored (and no unhandled 'error' event).
    req.on('error', () => undefined);
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      this.answer(req, res, raw)
        .then(() => logRequestCompleted(req, res, id, started))
        .catch((e: unknown) => {
          PinoLogger.root?.error({ err: e }, 'webhook answer failed');
          if (!res.headersSent) res.destroy();
        });
    });
  };

  private takes(req: IncomingMessage): boolean {
    if (req.method !== 'POST' || (req.url !== '/kakao/webhook' && !req.url?.startsWith('/kakao/webhook?'))) {
      return false;
    }
    const { headers } = req;
    if (headers['transfer-encoding'] !== undefined) return false;
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length) || length <= 0 || length > WEBHOOK_BODY_LIMIT_BYTES) return false;
    const type = headers['content-type'];
    return type !== undefined && PLAIN_JSON.has(type.replace(/\s+/g, '').toLowerCase());
  }

  /** Answers the request; resolves with the status written. */
  private async answer(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<number> {
    try {
      let body: unknown;
      let bodyError: unknown = null;
      try {
        body = decodeJsonBody(raw, { deferErrors: true });
      } catch (e) {
        bodyError = e;
      }
      // Authentication first: an unauthenticated caller learns nothing about how its body was judged.
      verifySkillRequest(this.config, req.headers, raw);
      if (bodyError) throw bodyError;
      const payload = this.pipe.transform(body) as unknown as KakaoSkillPayload;
      const answer = await this.webhook.handle(payload);
      if (answer.headers)
        for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      return this.send(res, 200, answer.response);
    } catch (e) {
      const { body, headers } = this.errors.toBody(e);
      if (headers) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      return this.send(res, body.statusCode, body);
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): number {
    if (res.headersSent) {
      res.end();
      return res.statusCode;
    }
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
    return status;
  }
}
