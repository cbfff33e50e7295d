import http from 'node:http';
import { httpServerTimeouts, TimedExpressAdapter } from './server-timeouts';

describe('httpServerTimeouts', () => {
  it.each([
    [10_000, 30_000, 1000],
    [500, 1000, 125],
    [100, 100, 100],
    [2000, 2000, 500],
  ])('headers %i ms, request %i ms → checked every %i ms', (headers, request, interval) => {
    expect(httpServerTimeouts({ httpHeadersTimeoutMs: headers, httpRequestTimeoutMs: request })).toEqual({
      headersTimeout: headers,
      requestTimeout: request,
      connectionsCheckingInterval: interval,
    });
  });

  it('creates the HTTP server with them', () => {
    const adapter = new TimedExpressAdapter(
      httpServerTimeouts({ httpHeadersTimeoutMs: 700, httpRequestTimeoutMs: 900 }),
    );
    adapter.initHttpServer({});
    const server = adapter.getHttpServer() as http.Server;
    try {
      expect(server).toBeInstanceOf(http.Server);
      expect(server.headersTimeout).toBe(700);
      expect(server.requestTimeout).toBe(900);
    } finally {
      server.close();
    }
  });
});
