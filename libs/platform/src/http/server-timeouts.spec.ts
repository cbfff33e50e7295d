import http from 'node:http';
import { expressMessageClasses, httpServerTimeouts, TimedExpressAdapter } from './server-timeouts';

describe('httpServerTimeouts', () => {
  it.each([
    [10_000, 30_000, 1000],
    [500, 1000, 125],
    [100, 100, 100],
    [2000, 2000, 500],
  ])('headers %i ms, request %i ms → checked every %i ms', (headers, request, interval) => {
    expect(
      httpServerTimeouts({
        httpHeadersTimeoutMs: headers,
        httpRequestTimeoutMs: request,
        httpKeepAliveTimeoutMs: 65_000,
      }),
    ).toEqual({
      headersTimeout: headers,
      requestTimeout: request,
      connectionsCheckingInterval: interval,
      keepAliveTimeout: 65_000,
    });
  });

  it('creates the HTTP server with them', () => {
    const adapter = new TimedExpressAdapter(
      httpServerTimeouts({
        httpHeadersTimeoutMs: 700,
        httpRequestTimeoutMs: 900,
        httpKeepAliveTimeoutMs: 1100,
      }),
    );
    adapter.initHttpServer({});
    const server = adapter.getHttpServer() as http.Server;
    try {
      expect(server).toBeInstanceOf(http.Server);
      expect(server.headersTimeout).toBe(700);
      expect(server.requestTimeout).toBe(900);
      expect(server.keepAliveTimeout).toBe(1100);
    } finally {
      server.close();
    }
  });
});

describe('expressMessageClasses', () => {
  it("gives requests and responses Express's prototypes from birth, so Express's setPrototypeOf changes nothing", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express') as () => { request: object; response: object };
    const app = express();
    const request = Object.getPrototypeOf(app.request) as object;
    const classes = expressMessageClasses(app);
    expect(app.request).toBe(classes.IncomingMessage.prototype);
    expect(app.response).toBe(classes.ServerResponse.prototype);
    // What Express had is still there: its methods through the prototype chain, its own `app`.
    expect(Object.getPrototypeOf(app.request)).toBe(request);
    expect((app.request as { app?: unknown }).app).toBe(app);
    expect(typeof (app.response as { json?: unknown }).json).toBe('function');
    expect(classes.IncomingMessage.prototype).toBeInstanceOf(http.IncomingMessage);
    expect(classes.ServerResponse.prototype).toBeInstanceOf(http.ServerResponse);
  });
});
