import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import http from 'node:http';
import type { RelayConfig } from '@app/config';

export interface HttpServerTimeouts {
  /** Node's `headersTimeout`: the request line and headers must arrive within it. */
  headersTimeout: number;
  /** Node's `requestTimeout`: the whole request (headers and body) must arrive within it. */
  requestTimeout: number;
  /** How often Node checks the two above (its default, 30 s, would let a slow client stay far longer). */
  connectionsCheckingInterval: number;
}

/**
 * Slow clients (contract §7): headers within `HTTP_HEADERS_TIMEOUT_MS`, the whole request within
 * `HTTP_REQUEST_TIMEOUT_MS`; Node answers 408 and closes the connection otherwise. Both count only the
 * receiving of a request, never the response: an SSE stream, whose GET request is complete at once, is not
 * affected however long it stays open. Checked every quarter of the shorter one, between 100 ms and 1 s.
 */
export function httpServerTimeouts(
  config: Pick<RelayConfig, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs'>,
): HttpServerTimeouts {
  const shorter = Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs);
  return {
    headersTimeout: config.httpHeadersTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(shorter / 4))),
  };
}

/**
 * Nest's Express adapter with an HTTP server created with our timeouts: `connectionsCheckingInterval` can only
 * be given to `http.createServer`, which Nest calls without options.
 */
export class TimedExpressAdapter extends ExpressAdapter {
  constructor(private readonly timeouts: HttpServerTimeouts) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections) {
      // Not used by the relay; keep Nest's own behaviour and set what can be set afterwards.
      super.initHttpServer(options);
      const server = this.getHttpServer() as http.Server;
      server.headersTimeout = this.timeouts.headersTimeout;
      server.requestTimeout = this.timeouts.requestTimeout;
      return;
    }
    this.setHttpServer(http.createServer({ ...this.timeouts }, this.getInstance()));
  }
}
