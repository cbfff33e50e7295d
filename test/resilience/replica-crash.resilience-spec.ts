import {
  AgentStreamClient,
  pairAgent,
  resetState,
  SseClient,
  StreamTransportName,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  WsClient,
} from '@app/testing';
import { steadyLoad, usedCallback } from '../support/load';
import { RelayProcess, spawnRelay } from '../support/relay-process';

/** A stream (SSE, or the agent socket with a `resume` frame) that resumes after `lastEventId` when given. */
const connectors: Record<
  StreamTransportName,
  (url: string, token: string, lastEventId?: number) => Promise<AgentStreamClient>
> = {
  sse: (url, token, lastEventId) => SseClient.connect(url, { token, lastEventId }),
  ws: (url, token, lastEventId) => WsClient.connect(url, { token, lastEventId }),
};

describe.each<StreamTransportName>(['sse', 'ws'])(
  'the relay holding the %s stream is SIGKILLed during load',
  (transport) => {
    const relays: RelayProcess[] = [];
    const connect = connectors[transport];

    afterAll(async () => {
      await Promise.all(relays.map((r) => r.kill('SIGKILL')));
    });

    it('the agent reconnects to another instance with Last-Event-ID and gets every message once', async () => {
      await resetState();
      const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `${TEST_REDIS_PREFIX}-crash-${transport}` };
      const [a, b] = await Promise.all([spawnRelay(env), spawnRelay(env)]);
      relays.push(a, b);
      const agent = await pairAgent(b.url, `crash-user-${transport}`);

      // The agent: one stream at a time; on loss it reconnects to the other replica with Last-Event-ID.
      const received: Array<{ id: number; text: string }> = [];
      let lastId: number | undefined;
      let current = await connect(a.url, agent.token);
      const follow = (stream: AgentStreamClient) => {
        let seen = 0;
        const timer = setInterval(() => {
          for (const e of stream.events.slice(seen)) {
            if (e.id !== undefined) lastId = Number(e.id);
            if (e.event === 'message')
              received.push({ id: Number(e.id), text: JSON.parse(e.data).normalized.text });
          }
          seen = stream.events.length;
        }, 5);
        return () => clearInterval(timer);
      };
      let stopFollowing = follow(current);
      await current.waitFor('connected');

      let crashed = false;
      let reconnected: Promise<void> | null = null;
      const sent = await steadyLoad({
        target: () => b.url,
        userKey: `crash-user-${transport}`,
        perSecond: 100,
        durationMs: 4000,
        prefix: `crash-${transport}`,
        onTick: (elapsed) => {
          if (!crashed && elapsed > 1500) {
            crashed = true;
            reconnected = (async () => {
              await a.kill('SIGKILL');
              await current.waitForEnd(5000);
              stopFollowing();
              // Drain what the dead stream delivered before reconnecting.
              for (const e of current.events) if (e.id !== undefined) lastId = Number(e.id);
              received.length = 0;
              for (const e of current.events.filter((x) => x.event === 'message')) {
                received.push({ id: Number(e.id), text: JSON.parse(e.data).normalized.text });
              }
              current = await connect(b.url, agent.token, lastId);
              stopFollowing = follow(current);
            })();
          }
        },
      });
      await reconnected;
      expect(sent.every(usedCallback)).toBe(true);
      const expected = sent.map((s) => s.text);
      const deadline = Date.now() + 15000;
      while (received.length < expected.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      stopFollowing();
      current.close();

      const texts = received.map((r) => r.text);
      expect(new Set(texts).size).toBe(texts.length);
      expect([...texts].sort()).toEqual([...expected].sort());
      const ids = received.map((r) => r.id);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
    });
  },
);
