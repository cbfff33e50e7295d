import { Logger } from '@nestjs/common';
import { BotBinding, BotBindingInput, BotBindingStore, ChannelName } from '@app/core';
import type { ChannelHandler, PubSubService, RedisService } from '@app/messaging';
import { BOT_BINDINGS_REFRESH_MS, BotBindings } from './bot-bindings';

/** An in-memory `BotBindingStore` whose rows a test can change behind the cache's back. */
class FakeBindingStore extends BotBindingStore {
  rows = new Map<string, BotBinding>();
  accounts = new Set(['acct-1', 'acct-2']);
  version = 0;
  loads = 0;
  down = false;

  put(input: BotBindingInput): BotBinding {
    const binding: BotBinding = {
      id: `id-${input.channel}-${input.botId}`,
      ...input,
      createdAt: new Date(0),
      updatedAt: new Date(++this.version),
    };
    this.rows.set(`${input.channel}/${input.botId}`, binding);
    return binding;
  }

  async upsert(input: BotBindingInput) {
    if (!this.accounts.has(input.accountId)) return null;
    const created = !this.rows.has(`${input.channel}/${input.botId}`);
    return { binding: this.put(input), created };
  }
  async findForBot(channel: ChannelName, botId: string) {
    return this.rows.get(`${channel}/${botId}`) ?? null;
  }
  async delete(channel: ChannelName, botId: string) {
    this.version++;
    return this.rows.delete(`${channel}/${botId}`);
  }
  async list() {
    return [];
  }
  async all() {
    if (this.down) throw new Error('database away');
    this.loads++;
    return [...this.rows.values()];
  }
  async fingerprint() {
    if (this.down) throw new Error('database away');
    return `${this.rows.size}/${this.version}`;
  }
}

function fakePubSub() {
  const handlers: ChannelHandler[] = [];
  const published: string[] = [];
  let down = false;
  const pubsub = {
    channel: (...parts: string[]) => `test:${parts.join(':')}`,
    subscribe: async (_name: string, handler: ChannelHandler) => {
      handlers.push(handler);
      return () => handlers.splice(handlers.indexOf(handler), 1);
    },
    onReconnect: () => () => undefined,
    publish: async (channel: string, message: string) => {
      if (down) throw new Error('redis away');
      published.push(channel);
      for (const h of handlers) h(message, () => JSON.parse(message));
      return handlers.length;
    },
  } as unknown as PubSubService;
  const redis = {
    subscriber: { status: 'ready', once: () => undefined, off: () => undefined },
  } as unknown as RedisService;
  return { pubsub, redis, published, handlers, setDown: (d: boolean) => (down = d) };
}

const flush = () => new Promise((r) => jest.requireActual<typeof import('timers')>('timers').setImmediate(r));

describe('BotBindings (the in-memory bindings of each replica)', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());
  afterEach(() => jest.useRealTimers());

  async function setup(seed: (store: FakeBindingStore) => void = () => undefined) {
    const store = new FakeBindingStore();
    seed(store);
    const bus = fakePubSub();
    const bindings = new BotBindings(store, bus.pubsub, bus.redis);
    await bindings.onApplicationBootstrap();
    return { store, bus, bindings };
  }

  it('decides access from memory: no binding or pairing → pairing; open → bound; allowlist → bound or refused', async () => {
    const { bindings, store } = await setup((s) => {
      s.put({ channel: 'kakao', botId: 'open', accountId: 'acct-1', policy: 'open', allowlist: [] });
      s.put({ channel: 'kakao', botId: 'pair', accountId: 'acct-1', policy: 'pairing', allowlist: [] });
      s.put({ channel: 'works', botId: 'list', accountId: 'acct-2', policy: 'allowlist', allowlist: ['u1'] });
    });
    const loads = store.loads;
    expect(bindings.accessFor('kakao', 'none', 'u1')).toEqual({ kind: 'pairing' });
    expect(bindings.accessFor('kakao', 'pair', 'u1')).toEqual({ kind: 'pairing' });
    expect(bindings.accessFor('kakao', 'open', 'anyone')).toEqual({ kind: 'bound', accountId: 'acct-1' });
    expect(bindings.accessFor('works', 'list', 'u1')).toEqual({ kind: 'bound', accountId: 'acct-2' });
    expect(bindings.accessFor('works', 'list', 'u2')).toEqual({ kind: 'refused' });
    // The channel is part of the key.
    expect(bindings.accessFor('kakao', 'list', 'u1')).toEqual({ kind: 'pairing' });
    expect(store.loads).toBe(loads);
    bindings.onApplicationShutdown();
  });

  it('applies its own change at once and announces it; an unknown account changes nothing', async () => {
    const { bindings, bus } = await setup();
    const input: BotBindingInput = {
      channel: 'kakao',
      botId: 'b',
      accountId: 'acct-1',
      policy: 'open',
      allowlist: [],
    };
    bus.setDown(true); // even without the announcement, this replica has it
    expect(await bindings.set(input)).toMatchObject({ created: true });
    expect(bindings.accessFor('kakao', 'b', 'u')).toEqual({ kind: 'bound', accountId: 'acct-1' });
    bus.setDown(false);
    expect(await bindings.set({ ...input, accountId: 'nobody' })).toBeNull();
    expect(bindings.accessFor('kakao', 'b', 'u')).toEqual({ kind: 'bound', accountId: 'acct-1' });
    expect(await bindings.remove('kakao', 'b')).toBe(true);
    expect(bindings.accessFor('kakao', 'b', 'u')).toEqual({ kind: 'pairing' });
    expect(bus.published).toEqual(['test:bot-bindings', 'test:bot-bindings']);
    bindings.onApplicationShutdown();
  });

  it('stores an allow-list once per id', async () => {
    const { bindings, store } = await setup();
    await bindings.set({
      channel: 'works',
      botId: 'b',
      accountId: 'acct-1',
      policy: 'allowlist',
      allowlist: ['a', 'b', 'a'],
    });
    expect(store.rows.get('works/b')?.allowlist).toEqual(['a', 'b']);
    bindings.onApplicationShutdown();
  });

  it('reloads on an announcement of another replica', async () => {
    const { bindings, store, bus } = await setup();
    store.put({ channel: 'kakao', botId: 'elsewhere', accountId: 'acct-2', policy: 'open', allowlist: [] });
    expect(bindings.accessFor('kakao', 'elsewhere', 'u')).toEqual({ kind: 'pairing' });
    await bus.pubsub.publish('test:bot-bindings', '{}');
    await flush();
    expect(bindings.accessFor('kakao', 'elsewhere', 'u')).toEqual({ kind: 'bound', accountId: 'acct-2' });
    bindings.onApplicationShutdown();
  });

  it('catches a change it was not told about (lost announcement, cascade) by the periodic fingerprint check', async () => {
    jest.useFakeTimers();
    const { bindings, store } = await setup((s) =>
      s.put({ channel: 'kakao', botId: 'gone', accountId: 'acct-1', policy: 'open', allowlist: [] }),
    );
    const loads = store.loads;
    await jest.advanceTimersByTimeAsync(BOT_BINDINGS_REFRESH_MS);
    expect(store.loads).toBe(loads); // unchanged table: only the fingerprint was read
    await store.delete('kakao', 'gone');
    await jest.advanceTimersByTimeAsync(BOT_BINDINGS_REFRESH_MS);
    expect(store.loads).toBe(loads + 1);
    expect(bindings.accessFor('kakao', 'gone', 'u')).toEqual({ kind: 'pairing' });
    bindings.onApplicationShutdown();
  });

  it('starts with every bot unbound when the database is away, and loads once it is back', async () => {
    jest.useFakeTimers();
    const store = new FakeBindingStore();
    store.put({ channel: 'kakao', botId: 'b', accountId: 'acct-1', policy: 'open', allowlist: [] });
    store.down = true;
    const bus = fakePubSub();
    const bindings = new BotBindings(store, bus.pubsub, bus.redis);
    await bindings.onApplicationBootstrap();
    expect(bindings.accessFor('kakao', 'b', 'u')).toEqual({ kind: 'pairing' });
    store.down = false;
    await jest.advanceTimersByTimeAsync(BOT_BINDINGS_REFRESH_MS);
    expect(bindings.accessFor('kakao', 'b', 'u')).toEqual({ kind: 'bound', accountId: 'acct-1' });
    bindings.onApplicationShutdown();
  });
});
