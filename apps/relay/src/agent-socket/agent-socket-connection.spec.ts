import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { TooManyStreamsError } from '@app/core';
import type { AgentPrincipal } from '@app/pairing';
import { AgentSocketConnection, AgentSocketDeps, BAD_FRAMES_MAX } from './agent-socket-connection';
import { closeCodeFor, formatSocketEvent } from './agent-socket-format';
import { WsTransport } from './ws-transport';

/** A `ws` socket as the connection uses it: frames in (`message`), frames and closes out. */
class FakeSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: string[] = [];
  pings = 0;
  closed: number | null = null;
  terminated = false;
  send(frame: string | Buffer, options?: { binary?: boolean }): void {
    // Bytes must go out as a text frame: the plugin reads text frames only.
    if (Buffer.isBuffer(frame) && options?.binary !== false) throw new Error('a binary frame was sent');
    this.sent.push(frame.toString());
  }
  ping(): void {
    this.pings++;
  }
  close(code: number): void {
    this.closed = code;
    this.readyState = WebSocket.CLOSING;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = WebSocket.CLOSED;
  }
  frame(value: unknown): void {
    this.emit('message', Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), false);
  }
  parsed(): Array<Record<string, unknown>> {
    return this.sent.map((f) => JSON.parse(f) as Record<string, unknown>);
  }
}

const principal: AgentPrincipal = {
  kind: 'session',
  sessionId: 's',
  accountId: 'a',
  status: 'paired',
  expiresAt: null,
  tokenHash: 'h',
};

function connection(lastEventId: number | null = null, open?: AgentSocketDeps['openStream']) {
  const socket = new FakeSocket();
  const opened: Array<number | null> = [];
  const replies: unknown[] = [];
  const deps: AgentSocketDeps = {
    openStream:
      open ??
      (async (_p, _t, _a, id) => {
        opened.push(id);
      }),
    reply: async (_token, body) => {
      replies.push(body);
      return { status: 200, body: { success: true } };
    },
    warn: () => undefined,
    resumeWaitMs: 1000,
  };
  const request = { socket: new EventEmitter() } as unknown as IncomingMessage;
  const conn = new AgentSocketConnection(
    socket as unknown as WebSocket,
    request,
    { principal, token: 't', clientAddress: '127.0.0.1', lastEventId },
    deps,
  );
  return { socket, conn, opened, replies };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('agent socket framing', () => {
  it('wraps the event JSON as it is, the id as a string', () => {
    expect(formatSocketEvent(7, 'message', '{"a":1}')).toBe(
      '{"type":"event","id":"7","event":"message","data":{"a":1}}',
    );
    expect(JSON.parse(formatSocketEvent('', 'error', '{}'))).toEqual({
      type: 'event',
      id: '',
      event: 'error',
      data: {},
    });
  });

  it.each([
    ['revoked', 4401],
    ['expired', 4401],
    ['slow_consumer', 4408],
    ['replaced', 4429],
    ['shutdown', 1001],
    ['failed', 1011],
    ['client', 1000],
  ] as const)('closes a stream ended for %s with %d', (reason, code) => {
    expect(closeCodeFor(reason)).toBe(code);
  });
});

describe('AgentSocketConnection', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts at once with the upgrade’s Last-Event-ID', () => {
    const { opened } = connection(4);
    expect(opened).toEqual([4]);
  });

  it('waits for a first resume frame, and takes its lastEventId', () => {
    const { socket, opened } = connection();
    expect(opened).toEqual([]);
    socket.frame({ type: 'resume', lastEventId: '12' });
    expect(opened).toEqual([12]);
    socket.frame({ type: 'resume', lastEventId: '13' });
    expect(opened).toEqual([12]);
    expect(socket.parsed().at(-1)).toMatchObject({ event: 'error', data: { code: 'BAD_FRAME' } });
  });

  it('starts without a resume once the wait is over, or at any other first frame', () => {
    const first = connection();
    jest.advanceTimersByTime(999);
    expect(first.opened).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(first.opened).toEqual([null]);
    const second = connection();
    second.socket.frame({ type: 'ack', id: '1' });
    expect(second.opened).toEqual([null]);
    const third = connection();
    third.socket.frame({ type: 'resume' });
    expect(third.opened).toEqual([null]);
  });

  it('hands a reply frame to the reply path without type and requestId; answers reply_result', async () => {
    jest.useRealTimers();
    const { socket, replies } = connection(0);
    socket.frame({ type: 'reply', requestId: 'r1', messageId: 'm', response: { version: '2.0' } });
    await flush();
    expect(replies).toEqual([{ messageId: 'm', response: { version: '2.0' } }]);
    expect(socket.parsed()).toEqual([
      { type: 'reply_result', requestId: 'r1', status: 200, body: { success: true } },
    ]);
    socket.frame({ type: 'reply', messageId: 'm', response: {} });
    expect(socket.parsed().at(-1)).toMatchObject({ requestId: null, status: 400 });
    expect(replies).toHaveLength(1);
  });

  it('answers bad frames with BAD_FRAME errors and closes with 1008 at the tenth', () => {
    const { socket } = connection(0);
    for (let i = 0; i < BAD_FRAMES_MAX - 1; i++) socket.frame(i % 2 ? 'nope' : { type: 'x' });
    expect(socket.closed).toBeNull();
    socket.emit('message', Buffer.from([1, 2]), true);
    expect(socket.closed).toBe(1008);
    expect(socket.parsed().every((f) => (f.data as { code: string }).code === 'BAD_FRAME')).toBe(true);
  });

  it('a refused stream (address at its cap) is told TOO_MANY_STREAMS and closed with 4429', async () => {
    jest.useRealTimers();
    const { socket } = connection(0, () => Promise.reject(new TooManyStreamsError(50, 30)));
    await flush();
    expect(socket.parsed()).toEqual([
      expect.objectContaining({
        type: 'event',
        id: '',
        event: 'error',
        data: expect.objectContaining({ code: 'TOO_MANY_STREAMS' }),
      }),
    ]);
    expect(socket.closed).toBe(4429);
  });
});

describe('WsTransport', () => {
  it('turns the heartbeat into protocol pings and drops a client after two unanswered', () => {
    const socket = new FakeSocket();
    const transport = new WsTransport(socket as unknown as WebSocket, new EventEmitter() as never);
    transport.write(transport.format.ping);
    transport.write(transport.format.ping);
    expect(socket.pings).toBe(2);
    expect(socket.sent).toEqual([]);
    transport.alive();
    transport.write(transport.format.ping);
    transport.write(transport.format.ping);
    expect(socket.terminated).toBe(false);
    transport.write(transport.format.ping);
    expect(socket.terminated).toBe(true);
    expect(socket.pings).toBe(4);
  });

  it('closes a too slow client with 4408 and cuts it off if it never reads', () => {
    jest.useFakeTimers();
    try {
      const socket = new FakeSocket();
      const transport = new WsTransport(socket as unknown as WebSocket, new EventEmitter() as never);
      transport.destroy();
      expect(socket.closed).toBe(4408);
      jest.advanceTimersByTime(3000);
      expect(socket.terminated).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
