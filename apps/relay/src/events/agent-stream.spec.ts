import type { Response } from 'express';
import type { ReplayStart } from '@app/persistence';
import { AgentStream, StreamContext } from './agent-stream';
import { SSE_PING } from './sse-format';

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
