import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { ChannelHandler, MessageEventData } from '@app/messaging';
import type { ReplayStart, StoredMessage } from '@app/persistence';
import { AgentStream, ReplayRange, StreamCloseReason, StreamContext } from './agent-stream';
import { SSE_PING } from './sse-format';

/** A response whose unsent byte count the test controls, as a client that reads (or not) would. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  /** Bytes each write leaves unsent (0: the client reads everything at once). */
  unsentPerWrite = 0;

  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableLength += this.unsentPerWrite ? chunk.length : 0;
    return this.writableLength === 0;
  }
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The client read everything. */
  read(): void {
    this.writableLength = 0;
    this.emit('drain');
  }
  events(name: string): string[] {
    return this.written.filter((w) => w.includes(`\nevent: ${name}\n`));
  }
}

function stored(seq: number, size = 10): StoredMessage {
  return {
    id: `m-${seq}`,
    accountId: 'acct',
    seq,
    channel: 'kakao',
    conversationKey: 'bot:user',
    payload: { pad: 'x'.repeat(size) },
    normalized: { userId: 'user', text: `t${seq}`, channelId: 'bot' },
    callbackUrl: null,
    createdAt: new Date(0),
  };
}

function harness(messages: StoredMessage[], options: { pageRows?: number; maxBufferBytes?: number } = {}) {
  const handlers: ChannelHandler[] = [];
  const pages: ReplayRange[] = [];
  const closed: StreamCloseReason[] = [];
  const pageRows = options.pageRows ?? 2;
  const ctx: StreamContext = {
    subscribeAccount: async (_id, handler) => {
      handlers.push(handler);
      return () => undefined;
    },
    subscribeSession: async () => () => undefined,
    replayStart: async () => ({ lastSeq: messages.length, floor: 0, includeDelivered: false }),
    replayPage: async (_accountId, range) => {
      pages.push(range);
      return messages.filter((m) => m.seq > range.afterSeq && m.seq <= range.upToSeq).slice(0, pageRows);
    },
    seqRange: async () => [],
    messageFrame: (seq, data) => `id: ${seq}\nevent: message\ndata: ${JSON.stringify(data)}\n\n`,
    eventJson: (data) => JSON.stringify(data),
    markDelivered: () => undefined,
    sessionExpired: async () => false,
    onClosed: (_s, reason) => closed.push(reason),
    warn: () => undefined,
    maxBufferBytes: options.maxBufferBytes ?? 1 << 30,
  };
  const res = new FakeResponse();
  const stream = new AgentStream(
    ctx,
    res as unknown as Response,
    {
      kind: 'session',
      sessionId: 'sess',
      accountId: 'acct',
      status: 'paired',
      expiresAt: null,
      tokenHash: 'h',
    },
    null,
    'stream-1',
  );
  const publish = (envelope: unknown) => {
    const json = JSON.stringify(envelope);
    for (const h of handlers) h(json, () => JSON.parse(json));
  };
  return { stream, res, pages, closed, publish };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('AgentStream', () => {
  it('replays page by page and reads the next page only after the client read the previous one', async () => {
    const { stream, res, pages } = harness([1, 2, 3, 4, 5].map((s) => stored(s, 70 * 1024)));
    res.unsentPerWrite = 1;
    const started = stream.start();
    await flush();
    // connected + the first page (2 messages), then it waits: the client has not read.
    expect(res.events('message')).toHaveLength(2);
    expect(pages).toHaveLength(1);
    res.read();
    await flush();
    expect(res.events('message')).toHaveLength(4);
    res.read();
    await flush();
    res.read();
    await started;
    expect(res.events('message').map((f) => Number(/^id: (\d+)/.exec(f)?.[1]))).toEqual([1, 2, 3, 4, 5]);
    expect(res.events('connected')).toHaveLength(1);
  });

  it('closes a stream whose unsent data passed the limit instead of writing more live events', async () => {
    const { stream, res, closed, publish } = harness([], { maxBufferBytes: 1000 });
    await stream.start();
    res.unsentPerWrite = 1;
    const payload = { pad: 'y'.repeat(300) };
    const data = (seq: number): MessageEventData => ({
      id: `m-${seq}`,
      conversationKey: 'bot:user',
      channel: 'kakao',
      kakaoPayload: payload,
      normalized: { userId: 'user', text: `t${seq}`, channelId: 'bot' },
      createdAt: new Date(0).toISOString(),
      payload,
    });
    publish({ kind: 'message', seq: 1, data: data(1) });
    publish({ kind: 'message', seq: 2, data: data(2) });
    expect(stream.isClosed).toBe(false);
    publish({ kind: 'message', seq: 3, data: data(3) });
    expect(stream.isClosed).toBe(true);
    expect(closed).toEqual(['slow_consumer']);
    expect(res.destroyed).toBe(true);
    expect(res.events('message')).toHaveLength(2);
  });

  it('ends with STREAM_REPLACED only when its own id is named', async () => {
    const { stream, res, closed, publish } = harness([]);
    await stream.start();
    publish({ kind: 'stream_replaced', streamIds: ['someone-else'] });
    expect(stream.isClosed).toBe(false);
    publish({ kind: 'stream_replaced', streamIds: ['someone-else', 'stream-1'] });
    expect(stream.isClosed).toBe(true);
    expect(closed).toEqual(['replaced']);
    expect(res.events('error')[0]).toContain('"code":"STREAM_REPLACED"');
  });

  it('writes heartbeats as ping events without an id', async () => {
    const { stream, res } = harness([]);
    await stream.start();
    stream.ping();
    expect(res.written.at(-1)).toBe('event: ping\ndata: {}\n\n');
  });
});

/** A response that records what is written and never has anything unsent. */
function fakeResponse(frames: string[]): Response {
  return {
    writableLength: 0,
    writableEnded: false,
    write: (frame: string) => frames.push(frame) > 0,
    end: () => undefined,
    destroy: () => undefined,
    on: () => undefined,
    off: () => undefined,
  } as unknown as Response;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function context(overrides: Partial<StreamContext>): StreamContext {
  return {
    subscribeAccount: () => Promise.resolve(() => undefined),
    subscribeSession: () => Promise.resolve(() => undefined),
    replayStart: () => Promise.resolve(null),
    replayPage: () => Promise.resolve([]),
    seqRange: () => Promise.resolve([]),
    messageFrame: () => '',
    eventJson: (data) => JSON.stringify(data),
    markDelivered: () => undefined,
    sessionExpired: () => Promise.resolve(false),
    onClosed: () => undefined,
    warn: () => undefined,
    maxBufferBytes: 64 * 1024,
    ...overrides,
  };
}

describe('AgentStream heartbeat', () => {
  it('sends no ping before `connected`, however long subscribing and the replay start take (§4: connected first)', async () => {
    const frames: string[] = [];
    const subscribed = deferred<() => void>();
    const replayStart = deferred<ReplayStart | null>();
    const ctx = context({
      subscribeSession: () => subscribed.promise,
      replayStart: () => replayStart.promise,
    });
    const stream = new AgentStream(
      ctx,
      fakeResponse(frames),
      {
        kind: 'session',
        sessionId: 'session-1',
        accountId: 'account-1',
        status: 'paired',
        expiresAt: null,
        tokenHash: 'hash',
      },
      null,
      'stream-1',
    );
    const started = stream.start();
    // The hub's heartbeat reaches the stream while it is still subscribing, and again while it reads the replay start.
    stream.ping();
    subscribed.resolve(() => undefined);
    await new Promise((r) => setImmediate(r));
    stream.ping();
    expect(frames).toEqual([]);
    replayStart.resolve(null);
    await started;
    stream.ping();
    expect(frames[0]).toMatch(/^id: 0\nevent: connected\ndata: \{"accountId":"account-1"/);
    expect(frames.slice(1)).toEqual([SSE_PING]);
    stream.close();
  });
});
