import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { parseConfig } from '@app/config';
import { TunnelRequestData, TunnelResponseData, TunnelStore } from '@app/core';
import { PubSubService, RedisService, StreamPresence } from '@app/messaging';
import { TUNNEL_CLOSE, TunnelHub } from './tunnel-hub';

/** A program's socket as the hub sees it: frames sent are recorded; `answer` plays the program. */
class FakeSocket extends EventEmitter {
  sent: Array<{ type: string; id: string; body: string }> = [];
  closedWith: number | null = null;

  send(data: string, cb?: (err?: Error) => void): void {
    this.sent.push(JSON.parse(data) as { type: string; id: string; body: string });
    cb?.();
  }

  answer(id: string, status = 200, body = 'ok'): void {
    const frame = { type: 'response', id, status, body: Buffer.from(body).toString('base64') };
    this.emit('message', Buffer.from(JSON.stringify(frame)), false);
  }

  close(code: number): void {
    this.closedWith = code;
    this.emit('close', code);
  }

  terminate(): void {
    this.close(1006);
  }

  ping(): void {}
}

/** Durable requests in memory, in arrival order. */
class FakeTunnelStore {
  pending: TunnelRequestData[] = [];
  answers = new Map<string, TunnelResponseData>();
  touch = async () => undefined;
  async nextPending(): Promise<TunnelRequestData | null> {
    return this.pending[0] ?? null;
  }
  async recordAnswer(id: string, response: TunnelResponseData): Promise<void> {
    this.answers.set(id, response);
    this.pending = this.pending.filter((r) => r.id !== id);
  }
}

const request = (id: string, body = id): TunnelRequestData => ({
  id,
  method: 'POST',
  path: '/',
  headers: {},
  body: Buffer.from(body),
});

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('TunnelHub', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.useRealTimers());

  const setup = () => {
    const store = new FakeTunnelStore();
    const published: Array<[string, string]> = [];
    const holders = new Map<string, string>();
    const redis = {
      key: (...parts: string[]) => parts.join(':'),
      command: {
        get: async (k: string) => holders.get(k) ?? null,
        set: async (k: string, v: string) => (holders.set(k, v), 'OK'),
        eval: async () => 1,
        exists: async (k: string) => (holders.has(k) ? 1 : 0),
      },
    } as unknown as RedisService;
    const pubsub = {
      channel: (...parts: string[]) => parts.join(':'),
      publish: async (channel: string, message: string) => (published.push([channel, message]), 1),
      subscribe: async () => () => undefined,
    } as unknown as PubSubService;
    const hub = new TunnelHub(
      parseConfig({ TUNNEL_RESPONSE_TIMEOUT_MS: '1000' }),
      store as unknown as TunnelStore,
      redis,
      pubsub,
      { instanceId: 'replica-1' } as unknown as StreamPresence,
    );
    return { hub, store, published, holders };
  };

  it('forwards a live request to the local socket and resolves with its answer', async () => {
    const { hub, holders } = setup();
    const socket = new FakeSocket();
    hub.attach('t1', 'live', socket as unknown as WebSocket);
    await flush();
    expect([...holders.values()][0]).toMatch(/^replica-1 /);
    const outcome = hub.forward('t1', request('r1', 'payload'));
    await flush();
    expect(socket.sent).toEqual([
      expect.objectContaining({ type: 'request', id: 'r1', body: 'cGF5bG9hZA==' }),
    ]);
    socket.answer('r1', 201, 'done');
    await expect(outcome).resolves.toEqual({
      kind: 'response',
      response: { status: 201, headers: {}, body: Buffer.from('done') },
    });
  });

  it('gives timeout when the program does not answer, and disconnected when it goes', async () => {
    jest.useFakeTimers();
    const { hub } = setup();
    const socket = new FakeSocket();
    hub.attach('t1', 'live', socket as unknown as WebSocket);
    const late = hub.forward('t1', request('r1'));
    await flush();
    jest.advanceTimersByTime(1000);
    await expect(late).resolves.toEqual({ kind: 'timeout' });
    const cut = hub.forward('t1', request('r2'));
    await flush();
    socket.emit('close', 1006);
    await expect(cut).resolves.toEqual({ kind: 'disconnected' });
  });

  it('is offline with no socket here and no holder in Redis', async () => {
    const { hub } = setup();
    await expect(hub.forward('nobody', request('r1'))).resolves.toEqual({ kind: 'offline' });
  });

  it('a second socket of a tunnel closes the first with 4409 and announces itself to the other replicas', async () => {
    const { hub, published } = setup();
    const first = new FakeSocket();
    const second = new FakeSocket();
    hub.attach('t1', 'live', first as unknown as WebSocket);
    hub.attach('t1', 'live', second as unknown as WebSocket);
    await flush();
    expect(first.closedWith).toBe(TUNNEL_CLOSE.replaced);
    expect(second.closedWith).toBeNull();
    expect(published.filter(([c]) => c === 'tunnel:kick')).toHaveLength(2);
    expect(hub.connectedTunnels).toEqual(['t1']);
  });

  it('durable: sends stored requests one at a time, in order, each until answered', async () => {
    const { hub, store } = setup();
    store.pending.push(request('a'), request('b'));
    const socket = new FakeSocket();
    hub.attach('t1', 'durable', socket as unknown as WebSocket);
    await flush();
    expect(socket.sent.map((f) => f.id)).toEqual(['a']);
    socket.answer('a');
    await flush();
    expect(socket.sent.map((f) => f.id)).toEqual(['a', 'b']);
    store.pending.push(request('c'));
    await hub.wake('t1');
    socket.answer('b');
    await flush();
    socket.answer('c');
    await flush();
    expect(socket.sent.map((f) => f.id)).toEqual(['a', 'b', 'c']);
    expect([...store.answers.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('durable: a request the program leaves unanswered is sent again; one whose socket went stays stored', async () => {
    jest.useFakeTimers();
    const { hub, store } = setup();
    store.pending.push(request('a'));
    const socket = new FakeSocket();
    hub.attach('t1', 'durable', socket as unknown as WebSocket);
    await flush();
    jest.advanceTimersByTime(1000);
    await flush();
    expect(socket.sent.map((f) => f.id)).toEqual(['a', 'a']);
    socket.emit('close', 1006);
    await flush();
    expect(store.pending.map((r) => r.id)).toEqual(['a']);
    expect(store.answers.size).toBe(0);
  });
});
