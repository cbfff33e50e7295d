import { connect, Socket } from 'node:net';
import { openStream, pairAgent, resetState, sendMessage, userMessage } from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

/** What a raw client got before the server closed the connection. */
interface CutOff {
  response: string;
  closed: boolean;
}

/**
 * Opens a raw TCP connection, writes `head` and then `drip` once every `everyMs` until the server closes the
 * connection; resolves with what the server wrote. Fails if the server keeps it open past `giveUpMs` (far longer
 * than the configured timeouts, and far shorter than Node's defaults).
 */
function slowClient(port: number, head: string, drip: string | null, everyMs = 100, giveUpMs = 8000) {
  return new Promise<CutOff>((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(
        new Error(`the server kept a slow client for ${giveUpMs} ms; it wrote: ${JSON.stringify(response)}`),
      );
    }, giveUpMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', () => undefined); // a reset counts as being cut off
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve({ response, closed: true });
    });
    socket.on('connect', () => {
      socket.write(head);
      if (drip !== null) {
        timer = setInterval(() => {
          if (!socket.destroyed) socket.write(drip);
        }, everyMs);
      }
    });
  });
}

describe('slow clients are cut off; streams are not (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(() => relay.close());

  it('uses the configured timeouts on the HTTP server', () => {
    const server = relay.app.getHttpServer() as import('node:http').Server;
    expect(server.headersTimeout).toBe(500);
    expect(server.requestTimeout).toBe(1000);
  });

  it.each<[string, string | null]>([
    ['stops after part of the headers', null],
    ['sends one more header line every 100 ms, forever', 'X-Slow: 1\r\n'],
  ])('answers 408 to a client that %s, and closes', async (_name, drip) => {
    const cut = await slowClient(relay.port, 'POST /kakao/webhook HTTP/1.1\r\nHost: relay\r\n', drip);
    expect(cut.closed).toBe(true);
    expect(cut.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it.each([
    ['Content-Length (fast path)', 'Content-Type: application/json\r\nContent-Length: 100000\r\n'],
    ['chunked (Nest route)', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n'],
  ])(
    'answers 408 to a webhook body sent slowly with %s, while a stream older than that stays open',
    async (_name, headers) => {
      const agent = await pairAgent(relay.url, `timeouts-${headers.length}`);
      const stream = await openStream(relay.url, agent.token);
      const chunked = headers.includes('chunked');
      const cut = await slowClient(
        relay.port,
        `POST /kakao/webhook HTTP/1.1\r\nHost: relay\r\n${headers}\r\n${chunked ? '1\r\n{\r\n' : '{'}`,
        chunked ? '1\r\n \r\n' : ' ',
      );
      expect(cut.closed).toBe(true);
      expect(cut.response).toMatch(/^HTTP\/1\.1 408 /);
      // The stream's request began before the slow one, so it is older than the request timeout now: still open,
      // and still delivering.
      expect(stream.ended).toBe(false);
      await sendMessage(relay.url, userMessage(agent.userKey, 'after the timeout'));
      const event = await stream.waitFor('message');
      expect(JSON.parse(event.data).normalized.text).toBe('after the timeout');
      expect(stream.ended).toBe(false);
      stream.close();
    },
  );
});
