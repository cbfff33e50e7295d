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
  /** Node's `keepAliveTimeout`: how long a connection may stay idle between requests before it is closed. */
  keepAliveTimeout: number;
}

/**
 * Slow clients (contract §7): headers within `HTTP_HEADERS_TIMEOUT_MS`, the whole request within
 * `HTTP_REQUEST_TIMEOUT_MS`; Node answers 408 and closes the connection otherwise. Both count only the
 * receiving of a request, never the response: an SSE stream, whose GET request is complete at once, is not
 * affected however long it stays open. Checked every quarter of the shorter one, between 100 ms and 1 s.
 *
 * Idle kept-alive connections: closed after `HTTP_KEEP_ALIVE_TIMEOUT_MS` (65 s), not Node's 5 s. A client that
 * reuses a connection the server is closing at that moment gets its request reset — a webhook refused, which
 * Kakao shows the user as an error, or a 502 from a load balancer in front. Clients and proxies that pool
 * connections keep them idle for up to 60 s (AWS ALB, nginx's upstream keepalive), and Node's own agent ignores
 * the `Keep-Alive: timeout=…` hint unless it has a timeout of its own; so the relay waits longer than they do.
 * (An idle connection's first request is still bound by the headers timeout.)
 */
export function httpServerTimeouts(
  config: Pick<RelayConfig, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs'>,
): HttpServerTimeouts {
  const shorter = Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs);
  return {
    headersTimeout: config.httpHeadersTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(shorter / 4))),
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
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
      server.keepAliveTimeout = this.timeouts.keepAliveTimeout;
      return;
    }
    const app = this.getInstance<http.RequestListener & ExpressPrototypes>();
    this.setHttpServer(http.createServer({ ...this.timeouts, ...expressMessageClasses(app) }, app));
  }
}

interface ExpressPrototypes {
  request: object;
  response: object;
}

/**
 * Request and response classes whose objects are born with the prototypes Express gives them. Express calls
 * `Object.setPrototypeOf(req, app.request)` (and the same for `res`) on every request; after that V8 gives every
 * property added to the object a map of its own, so each request and response ends up with private maps and
 * descriptor arrays (≈ 4 KiB per request, measured), held for as long as the request lives — hours for an agent
 * stream. Here `app.request`/`app.response` become these classes' prototypes (with what Express's had: its
 * methods, `app`), so Express's call changes nothing and all requests share V8's maps.
 */
export function expressMessageClasses(app: ExpressPrototypes): {
  IncomingMessage: typeof http.IncomingMessage;
  ServerResponse: typeof http.ServerResponse;
} {
  class ExpressRequest extends http.IncomingMessage {}
  class ExpressResponse extends http.ServerResponse {}
  for (const [cls, key] of [
    [ExpressRequest, 'request'],
    [ExpressResponse, 'response'],
  ] as const) {
    const current = app[key];
    // Express's own object: its methods come from its prototype, its own properties (`app`) are copied.
    Object.setPrototypeOf(cls.prototype, Object.getPrototypeOf(current));
    Object.defineProperties(cls.prototype, Object.getOwnPropertyDescriptors(current));
    app[key] = cls.prototype;
  }
  return {
    IncomingMessage: ExpressRequest,
    ServerResponse: ExpressResponse as unknown as typeof http.ServerResponse,
  };
}
