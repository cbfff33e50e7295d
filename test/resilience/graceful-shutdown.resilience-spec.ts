import {
  pairAgent,
  PairedAgent,
  resetState,
  sendMessage,
  SseClient,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  userMessage,
} from '@app/testing';
import { RelayProcess, spawnRelay } from '../support/relay-process';

const AGENTS = 10;
const STREAMS_PER_AGENT = 100;

describe('SIGTERM with 1,000 open streams', () => {
  jest.setTimeout(90000);
  const relays: RelayProcess[] = [];

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.kill('SIGKILL')));
  });

  it('exits within 5 s and the agents reconnect elsewhere without losing a message', async () => {
    await resetState();
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-term`,
      // 100 streams per token here (the test is about shutting down with many streams, not about the cap).
      MAX_STREAMS_PER_TOKEN: String(STREAMS_PER_AGENT),
    };
    const [a, b] = await Promise.all([spawnRelay(env), spawnRelay(env)]);
    relays.push(a, b);
    const agents: PairedAgent[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push(await pairAgent(b.url, `term-user-${i}`));

    const streams: Array<{ agent: PairedAgent; stream: SseClient }> = [];
    for (const agent of agents) {
      const batch = await Promise.all(
        Array.from({ length: STREAMS_PER_AGENT }, () => SseClient.connect(a.url, { token: agent.token })),
      );
      await Promise.all(batch.map((s) => s.waitFor('connected', 15000)));
      for (const stream of batch) streams.push({ agent, stream });
    }
    expect(streams).toHaveLength(1000);
    for (const agent of agents)
      await sendMessage(b.url, userMessage(agent.userKey, `before-${agent.userKey}`));
    await Promise.all(streams.map(({ stream }) => stream.waitForCount('message', 1, 15000)));

    const started = Date.now();
    a.proc.kill('SIGTERM');
    // Messages keep arriving while the streams move to the other replica.
    for (const agent of agents)
      await sendMessage(b.url, userMessage(agent.userKey, `during-${agent.userKey}`));
    await a.exited;
    expect(Date.now() - started).toBeLessThan(5000);
    await Promise.all(streams.map(({ stream }) => stream.waitForEnd(5000)));

    const moved = await Promise.all(
      streams.map(async ({ agent, stream }) => {
        const last = stream.events.filter((e) => e.id !== undefined).pop()?.id;
        const next = await SseClient.connect(b.url, { token: agent.token, lastEventId: last });
        return { agent, before: stream, after: next };
      }),
    );
    for (const agent of agents)
      await sendMessage(b.url, userMessage(agent.userKey, `after-${agent.userKey}`));
    for (const { agent, before, after } of moved) {
      const expected = [`before-${agent.userKey}`, `during-${agent.userKey}`, `after-${agent.userKey}`];
      const deadline = Date.now() + 15000;
      const all = () =>
        [
          ...before.dataOf<{ normalized: { text: string } }>('message'),
          ...after.dataOf<{ normalized: { text: string } }>('message'),
        ].map((m) => m.normalized.text);
      while (all().length < expected.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(all()).toEqual(expected);
    }
    moved.forEach(({ after }) => after.close());
  });
});
