import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackHttpClient } from './callback-http.client';

const LOOPBACK = { address: '127.0.0.1', family: 4 as const };

interface Received {
  host: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A callback endpoint on 127.0.0.1 whose answer each test sets; `hang` never answers. */
async function callbackServer() {
  const received: Received[] = [];
  const state: { status: number; body: string; headers: Record<string, string>; hang: boolean } = {
    status: 200,
    body: '{"taskId":"t","status":"SUCCESS","message":""}',
    headers: { 'Content-Type': 'application/json' },
    hang: false,
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ host: req.headers.host, contentType: req.headers['content-type'], body });
      if (state.hang) return;
      res.writeHead(state.status, state.headers).end(state.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    received,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('CallbackHttpClient', () => {
  const client = new CallbackHttpClient();
  let server: Awaited<ReturnType<typeof callbackServer>>;
  const url = () => new URL(`http://callback.kakao.test:${server.port}/v1/callback/abc`);
  const send = (timeoutMs = 2000) => client.attempt(url(), LOOPBACK, '{"version":"2.0"}', timeoutMs);

  beforeEach(async () => {
    server = await callbackServer();
  });
  afterEach(() => server.close());

  it("posts JSON to the pinned address under the URL's host name; SUCCESS is ok", async () => {
    await expect(send()).resolves.toEqual({
      httpStatus: 200,
      kakaoStatus: 'SUCCESS',
      ok: true,
      transient: false,
      error: null,
    });
    expect(server.received).toEqual([
      {
        host: `callback.kakao.test:${server.port}`,
        contentType: 'application/json; charset=utf-8',
        body: '{"version":"2.0"}',
      },
    ]);
  });

  it.each([
    [
      'FAIL with a message',
      200,
      '{"taskId":"t","status":"FAIL","message":"expired"}',
      'FAIL',
      'Kakao answered FAIL: expired',
    ],
    ['ERROR', 200, '{"status":"ERROR"}', 'ERROR', 'Kakao answered ERROR'],
    ['no JSON', 200, 'OK', null, 'Kakao did not answer SUCCESS'],
    ['a 4xx', 400, '{"message":"bad token"}', null, 'Kakao answered HTTP 400: bad token'],
  ])('takes %s as a final failure', async (_name, status, body, kakaoStatus, error) => {
    Object.assign(server.state, { status, body });
    await expect(send()).resolves.toEqual({
      httpStatus: status,
      kakaoStatus,
      ok: false,
      transient: false,
      error,
    });
  });

  it.each([500, 503, 429])('takes HTTP %i as transient', async (status) => {
    Object.assign(server.state, { status, body: '' });
    await expect(send()).resolves.toMatchObject({
      httpStatus: status,
      ok: false,
      transient: true,
      error: `Kakao answered HTTP ${status}`,
    });
  });

  it('does not follow a redirect', async () => {
    Object.assign(server.state, { status: 302, body: '', headers: { Location: 'https://evil.example/' } });
    await expect(send()).resolves.toMatchObject({
      httpStatus: 302,
      ok: false,
      transient: false,
      error: 'redirect (302) not followed',
    });
    expect(server.received).toHaveLength(1);
  });

  it('gives up on a server that does not answer within the time limit (transient)', async () => {
    server.state.hang = true;
    await expect(send(150)).resolves.toEqual({
      httpStatus: null,
      kakaoStatus: null,
      ok: false,
      transient: true,
      error: 'no answer within 150 ms',
    });
  });

  it('reports a refused connection as a transient network error', async () => {
    const port = server.port;
    await server.close();
    const result = await client.attempt(
      new URL(`http://callback.kakao.test:${port}/x`),
      LOOPBACK,
      '{}',
      2000,
    );
    expect(result).toMatchObject({ httpStatus: null, ok: false, transient: true });
    expect(result.error).toMatch(/^network error: .*ECONNREFUSED/);
  });
});
