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

/** A raw keep-alive connection: requests written on it one at a time, answers read whole (Content-Length). */
class RawConnection {
  private readonly socket: Socket;
  private buffer = '';
  private waiting: ((answer: string) => void) | null = null;
  readonly closed: Promise<number>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.deliver();
    });
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve(performance.now())));
  }

  /** GET `path` on this connection; resolves with the whole answer (head and body). */
  get(path: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: relay\r\n\r\n`);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end === -1 || !this.waiting) return;
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(this.buffer.slice(0, end))?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    const answer = this.buffer.slice(0, end + 4 + length);
    this.buffer = this.buffer.slice(answer.length);
    const resolve = this.waiting;
    this.waiting = null;
    resolve(answer);
  }
}

describe('slow clients are cut off; streams are not (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: '1000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '2000',
    });
  });
  afterAll(() => relay.close());

  it('uses the configured timeouts on the HTTP server', () => {
    const server = relay.app.getHttpServer() as import('node:http').Server;
    expect(server.headersTimeout).toBe(500);
    expect(server.requestTimeout).toBe(1000);
    expect(server.keepAliveTimeout).toBe(2000);
  });

  it('keeps an idle connection for HTTP_KEEP_ALIVE_TIMEOUT_MS, longer than the headers timeout, then closes it', async () => {
    const connection = new RawConnection(relay.port);
    try {
      const first = await connection.get('/health');
      expect(first).toMatch(/^HTTP\/1\.1 200 /);
      // Announced, so that clients which read the hint stop reusing the connection before the relay closes it.
      expect(first).toMatch(/\r\nKeep-Alive: timeout=2\r\n/i);
      // Idle for longer than the headers timeout (500 ms) and Node's 1 s check: the next request is served on
      // the same connection.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const second = await connection.get('/health');
      const answered = performance.now();
      expect(second).toMatch(/^HTTP\/1\.1 200 /);
      // Then closed by the relay once idle for the keep-alive timeout (Node closes a second after it): not
      // before, not long after.
      const idleMs = (await connection.closed) - answered;
      expect(idleMs).toBeGreaterThan(1800);
      expect(idleMs).toBeLessThan(4000);
    } finally {
      connection.destroy();
    }
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
