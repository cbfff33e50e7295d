import { messageEventJson, type ChannelHandler, type MessageEventData } from '@app/messaging';
import type { ReplayRange, ReplayStart, StoredMessage } from '@app/core';
import { AgentStream, GAP_WAIT_MS, StreamContext } from './agent-stream';
import type { EventFormat, StreamCloseReason, StreamTransport } from './stream-transport';

/** An SSE-like framing, so that the tests read ids and names the way an agent would. */
const FORMAT: EventFormat = {
  frame: (id, event, json) => `id: ${id}\nevent: ${event}\ndata: ${json}\n\n`,
  ping: 'event: ping\ndata: {}\n\n',
};

/** A transport whose unsent byte count the test controls, as a client that reads (or not) would. */
class FakeTransport implements StreamTransport {
  readonly name = 'fake';
  readonly format = FORMAT;
  written: string[] = [];
  unsentBytes = 0;
  isGone = false;
  ended = false;
  endReason: StreamCloseReason | null = null;
  destroyed = false;
  /** Bytes each write leaves unsent (0: the client reads everything at once). */
  unsentPerWrite = 0;
  private waiting: Array<() => void> = [];

  open(): void {}
  onGone(): void {}
  write(frame: string): void {
    this.written.push(frame);
    this.unsentBytes += this.unsentPerWrite ? frame.length : 0;
  }
  drained(highWater: number): Promise<boolean> {
    if (this.unsentBytes <= highWater) return Promise.resolve(true);
    return new Promise((resolve) => this.waiting.push(() => resolve(!this.destroyed && !this.ended)));
  }
  end(reason: StreamCloseReason): void {
    this.ended = true;
    this.endReason = reason;
    this.release();
  }
  destroy(): void {
    this.destroyed = true;
    this.release();
  }
  /** The client read everything. */
  read(): void {
    this.unsentBytes = 0;
    this.release();
  }
  events(name: string): string[] {
    return this.written.filter((w) => w.includes(`\nevent: ${name}\n`));
  }
  ids(name: string): number[] {
    return this.events(name).map((f) => Number(/^id: (\d+)/.exec(f)?.[1]));
  }
  private release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
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

interface HarnessOptions {
  pageRows?: number;
  maxBufferBytes?: number;
  /** What PostgreSQL holds beyond the replay (for gap fills); defaults to `messages`. */
  stored?: StoredMessage[];
  lastEventId?: number | null;
  principal?: Partial<ConstructorParameters<typeof AgentStream>[2]>;
  sessionExpired?: () => Promise<boolean>;
}

function harness(messages: StoredMessage[], options: HarnessOptions = {}) {
  const handlers: ChannelHandler[] = [];
  const pages: ReplayRange[] = [];
  const closed: StreamCloseReason[] = [];
  const delivered: number[] = [];
  const gapReads: Array<[number, number]> = [];
  const pageRows = options.pageRows ?? 2;
  const all = options.stored ?? messages;
  const ctx: StreamContext = {
    subscribeAccount: async (_id, handler) => {
      handlers.push(handler);
      return () => undefined;
    },
    subscribeSession: async () => () => undefined,
    replayStart: async () => ({
      lastSeq: Math.max(0, ...messages.map((m) => m.seq)),
      floor: options.lastEventId ?? 0,
      includeDelivered: false,
    }),
    replayPage: async (_accountId, range) => {
      pages.push(range);
      return messages.filter((m) => m.seq > range.afterSeq && m.seq <= range.upToSeq).slice(0, pageRows);
    },
    seqRange: async (_accountId, from, to) => {
      gapReads.push([from, to]);
      return all.filter((m) => m.seq > from && m.seq <= to);
    },
    messageFrame: (format, seq, data) => format.frame(seq, 'message', messageEventJson(data)),
    eventJson: (data) => JSON.stringify(data),
    markDelivered: (_accountId, seq) => delivered.push(seq),
    sessionExpired: options.sessionExpired ?? (async () => false),
    now: () => Date.now(),
    onClosed: (_s, reason) => closed.push(reason),
    warn: () => undefined,
    maxBufferBytes: options.maxBufferBytes ?? 1 << 30,
  };
  const res = new FakeTransport();
  const stream = new AgentStream(
    ctx,
    res,
    {
      kind: 'session',
      sessionId: 'sess',
      accountId: 'acct',
      status: 'paired',
      expiresAt: null,
      tokenHash: 'h',
      ...options.principal,
    },
    options.lastEventId ?? null,
    'stream-1',
  );
  const publish = (envelope: unknown) => {
    const json = JSON.stringify(envelope);
    for (const h of handlers) h(json, () => JSON.parse(json));
  };
  const live = (seq: number) => publish({ kind: 'message', seq, data: eventData(seq) });
  return { stream, res, pages, closed, publish, live, delivered, gapReads };
}

function eventData(seq: number): MessageEventData {
  return {
    id: `m-${seq}`,
    conversationKey: 'bot:user',
    channel: 'kakao',
    normalized: { userId: 'user', text: `t${seq}`, channelId: 'bot' },
    createdAt: new Date(0).toISOString(),
    payload: {},
  };
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

  it('an acknowledgement marks delivered up to the last message written, never beyond', async () => {
    const { stream, delivered, live } = harness([]);
    await stream.start();
    expect(stream.acknowledge(5)).toBe(0);
    live(1);
    live(2);
    delivered.length = 0;
    expect(stream.acknowledge(1)).toBe(1);
    expect(stream.acknowledge(99)).toBe(2);
    expect(delivered).toEqual([1, 2]);
    stream.close();
    expect(stream.acknowledge(2)).toBe(0);
  });

  it('tells the transport why it ends the stream', async () => {
    const { stream, res, publish } = harness([]);
    await stream.start();
    publish({ kind: 'pairing_expired', data: { reason: 'disconnected' } });
    expect(res.endReason).toBe('revoked');
    const other = harness([]);
    await other.stream.start();
    other.stream.close('shutdown');
    expect(other.res.endReason).toBe('shutdown');
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
    expect(res.written.at(-1)).toBe(FORMAT.ping);
  });
});

/** A transport that records what is written and never has anything unsent. */
function recordingTransport(frames: string[]): StreamTransport {
  const transport = new FakeTransport();
  transport.written = frames;
  return transport;
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
    now: () => Date.now(),
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
      recordingTransport(frames),
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
    expect(frames.slice(1)).toEqual([FORMAT.ping]);
    stream.close();
  });
});

describe('AgentStream delivery (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Lets the stream's awaited reads settle without moving the clock. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  it('writes live messages in sequence, once each, and marks each written one delivered', async () => {
    const { stream, res, live, delivered } = harness([]);
    await stream.start();
    live(1);
    live(2);
    live(2); // the same event from a second channel or a retried publish
    live(1);
    live(3);
    expect(res.ids('message')).toEqual([1, 2, 3]);
    expect(delivered).toEqual([1, 2, 3]);
  });

  it('holds a message that arrives ahead of a gap, and writes both in order when the gap arrives in time', async () => {
    const { stream, res, live, gapReads } = harness([]);
    await stream.start();
    live(1);
    live(3);
    expect(res.ids('message')).toEqual([1]);
    jest.advanceTimersByTime(GAP_WAIT_MS - 1);
    live(2);
    expect(res.ids('message')).toEqual([1, 2, 3]);
    jest.advanceTimersByTime(GAP_WAIT_MS);
    await settle();
    expect(gapReads).toEqual([]);
  });

  it('reads a gap from the store after GAP_WAIT_MS, and skips what the store no longer has', async () => {
    const stored5 = [stored(1), stored(2), stored(4)]; // 3 expired or deleted meanwhile
    const { stream, res, live, gapReads } = harness([], { stored: stored5 });
    await stream.start();
    live(1);
    live(5);
    expect(res.ids('message')).toEqual([1]);
    jest.advanceTimersByTime(GAP_WAIT_MS);
    await settle();
    expect(gapReads).toEqual([[1, 5]]);
    expect(res.ids('message')).toEqual([1, 2, 4, 5]);
    live(6);
    expect(res.ids('message')).toEqual([1, 2, 4, 5, 6]);
  });

  it('replays what is owed after Last-Event-ID, then drops the live copies of replayed messages', async () => {
    const owed = [stored(4), stored(5)];
    const { stream, res, live } = harness(owed, { lastEventId: 3, pageRows: 10 });
    await stream.start();
    expect(res.events('connected')[0]).toMatch(/^id: 3\n/);
    live(5);
    live(6);
    expect(res.ids('message')).toEqual([4, 5, 6]);
  });

  it('ends a pending session at its expiry instant with pairing_expired {reason: expired}', async () => {
    jest.setSystemTime(1_000_000);
    let expired = false;
    const { stream, res, closed } = harness([], {
      principal: { accountId: null, status: 'pending_pairing', expiresAt: new Date(1_060_000) },
      sessionExpired: async () => expired,
    });
    await stream.start();
    jest.advanceTimersByTime(59_000);
    await settle();
    expect(stream.isClosed).toBe(false);
    expired = true;
    jest.advanceTimersByTime(1_100);
    await settle();
    expect(stream.isClosed).toBe(true);
    expect(closed).toEqual(['expired']);
    expect(res.events('pairing_expired')[0]).toContain('"reason":"expired"');
  });

  it('ends with pairing_expired when its credential is revoked, and writes nothing after', async () => {
    const { stream, res, live, closed } = harness([]);
    await stream.start();
    stream.revoke('disconnected');
    live(1);
    expect(res.events('pairing_expired')[0]).toContain('"reason":"disconnected"');
    expect(res.events('message')).toEqual([]);
    expect(closed).toEqual(['revoked']);
    expect(res.ended).toBe(true);
  });

  it("a stream opened with an API-key token ends at the token's exp with pairing_expired {reason: expired}", async () => {
    jest.setSystemTime(1_000_000);
    const { stream, res, closed } = harness([], {
      principal: {
        kind: 'api_token',
        sessionId: null,
        apiKeyId: 'key-1',
        expiresAt: new Date(1_060_000),
      },
    });
    await stream.start();
    jest.advanceTimersByTime(59_999);
    expect(stream.isClosed).toBe(false);
    jest.advanceTimersByTime(1);
    expect(stream.isClosed).toBe(true);
    expect(closed).toEqual(['expired']);
    expect(res.events('pairing_expired')[0]).toContain('"reason":"expired"');
  });

  it("scoped revocations: a key revocation ends only its own key's streams, a relay-token rotation none of them", async () => {
    const apiToken = { kind: 'api_token' as const, sessionId: null, apiKeyId: 'key-1', expiresAt: null };
    const ofKey = harness([], { principal: apiToken });
    const relay = harness([], { principal: { kind: 'account', sessionId: null } });
    await Promise.all([ofKey.stream.start(), relay.stream.start()]);
    const revoked = (apiKeyId: string) => ({
      kind: 'pairing_expired',
      data: { reason: 'disconnected' },
      scope: 'api_key',
      apiKeyId,
    });
    const rotated = { kind: 'pairing_expired', data: { reason: 'disconnected' }, scope: 'account_token' };
    for (const h of [ofKey, relay]) {
      h.publish(revoked('key-2'));
      h.publish(rotated);
    }
    expect(ofKey.stream.isClosed).toBe(false);
    expect(relay.stream.isClosed).toBe(true);
    relay.publish(revoked('key-1'));
    ofKey.publish(revoked('key-1'));
    expect(ofKey.stream.isClosed).toBe(true);
    expect(ofKey.closed).toEqual(['revoked']);
    expect(ofKey.res.events('pairing_expired')[0]).toContain('"reason":"disconnected"');
  });
});
