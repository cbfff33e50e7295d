import type { RedisService } from '@app/messaging';
import { RATE_SYNC_MS, TunnelRateWindow } from './tunnel-rate-window';

describe('TunnelRateWindow', () => {
  afterEach(() => jest.useRealTimers());

  const setup = (clusterExtra = 0, fail = false) => {
    jest.useFakeTimers();
    let now = 1_000_000;
    const increments: number[] = [];
    let total = clusterExtra;
    const redis = {
      key: (...parts: string[]) => parts.join(':'),
      command: {
        eval: async (_script: string, _n: number, _key: string, delta: string) => {
          if (fail) throw new Error('redis down');
          increments.push(Number(delta));
          total += Number(delta);
          return [total, 30_000];
        },
      },
    } as unknown as RedisService;
    const window = new TunnelRateWindow(redis, () => now);
    return { window, increments, advance: (ms: number) => ((now += ms), jest.advanceTimersByTime(ms)) };
  };

  const flush = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  it('counts exactly on one replica and adds its count to Redis in one INCRBY per 100 ms', async () => {
    const { window, increments, advance } = setup();
    for (let i = 0; i < 5; i++) expect(window.admit('t', 5)).toBeNull();
    expect(window.admit('t', 5)).toBe(60);
    advance(RATE_SYNC_MS);
    await flush();
    expect(increments).toEqual([5]);
  });

  it('learns what the other replicas admitted from the Redis answer', async () => {
    const { window, advance } = setup(8);
    expect(window.admit('t', 10)).toBeNull();
    advance(RATE_SYNC_MS);
    await flush();
    // 8 elsewhere + 1 here: one more fits in 10, then the window is full until Redis says it ends.
    expect(window.admit('t', 10)).toBeNull();
    expect(window.admit('t', 10)).toBe(30);
    window.clear();
  });

  it('counts locally while Redis is away, and starts a new window after a minute', async () => {
    const { window, advance } = setup(0, true);
    expect(window.admit('t', 1)).toBeNull();
    advance(RATE_SYNC_MS);
    await flush();
    expect(window.admit('t', 1)).not.toBeNull();
    advance(60_000);
    expect(window.admit('t', 1)).toBeNull();
    window.clear();
  });
});
