import {
  AgentStreamClient,
  openSocketStream,
  openStream,
  pairAgent,
  resetState,
  TEST_REDIS_PREFIX,
} from '@app/testing';
import { steadyLoad, usedCallback } from '../support/load';
import { startRedisServer } from '../support/processes';
import { RelayProcess, spawnRelay } from '../support/relay-process';

function texts(stream: AgentStreamClient): string[] {
  return stream.dataOf<{ normalized: { text: string } }>('message').map((m) => m.normalized.text);
}

describe('Redis killed and restarted during a steady webhook load', () => {
  let relay: RelayProcess | undefined;
  let redis: { port: number; stop(): Promise<void> } | undefined;

  afterAll(async () => {
    await relay?.kill('SIGKILL');
    await redis?.stop();
  });

  it('stores every acknowledged webhook, answers Kakao in time, and delivers it all once Redis is back', async () => {
    await resetState();
    redis = await startRedisServer();
    relay = await spawnRelay({
      REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-redis-outage`,
    });
    const agent = await pairAgent(relay.url, 'redis-outage-user');
    const stream = await openStream(relay.url, agent.token);
    // The same account on the agent socket: the catch-up after the outage is the delivery core's, for both.
    const socket = await openSocketStream(relay.url, agent.token);

    let killed = false;
    let readyDuringOutage: Promise<number> | null = null;
    let restarted: Promise<{ port: number; stop(): Promise<void> }> | null = null;
    const redisPort = redis.port;
    const sent = await steadyLoad({
      target: () => relay!.url,
      userKey: 'redis-outage-user',
      perSecond: 40,
      durationMs: 6000,
      prefix: 'ro',
      onTick: (elapsed) => {
        if (!killed && elapsed > 1500) {
          killed = true;
          void redis!.stop();
        }
        if (killed && !readyDuringOutage && elapsed > 2500) {
          readyDuringOutage = fetch(`${relay!.url}/health/ready`).then((r) => r.status);
        }
        if (killed && !restarted && elapsed > 3500) restarted = startRedisServer(redisPort);
      },
    });
    redis = await restarted!;
    // The outage was real: the relay saw Redis gone while webhooks kept coming.
    expect(await readyDuringOutage).toBe(503);

    // Kakao was answered in time, with useCallback, throughout the outage.
    expect(sent.length).toBe(240);
    expect(Math.max(...sent.map((s) => s.ms))).toBeLessThan(5000);
    const acknowledged = sent.filter(usedCallback).map((s) => s.text);
    expect(acknowledged.length).toBe(sent.length);

    // Everything acknowledged reaches both streams once Redis is back, exactly once.
    for (const client of [stream, socket]) {
      const deadline = Date.now() + 20000;
      while (texts(client).length < acknowledged.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const got = texts(client);
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...acknowledged].sort());
      const ids = client.events.filter((e) => e.event === 'message').map((e) => Number(e.id));
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
    }
    stream.close();
    socket.close();
  });
});
