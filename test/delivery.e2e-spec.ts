import Redis from 'ioredis';
import {
  AgentStreamClient,
  openStream,
  pairAgent,
  streamOpener,
  StreamTransportName,
  resetState,
  sendMessage,
  SseClient,
  sql,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  userMessage,
  waitUntil,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';
import { PubSubService, redisOptionsFromUrl, StreamEventPublisher } from '@app/messaging';

interface MessageData {
  id: string;
  normalized: { text: string; userId: string };
}

function texts(stream: AgentStreamClient): string[] {
  return stream.dataOf<MessageData>('message').map((m) => m.normalized.text);
}

function ids(stream: AgentStreamClient): number[] {
  return stream.events.filter((e) => e.event === 'message').map((e) => Number(e.id));
}

function expectStrictlyIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
}

describe('delivery to agent streams (e2e)', () => {
  let a: RunningRelay;
  let b: RunningRelay;

  beforeAll(async () => {
    await resetState();
    [a, b] = await Promise.all([startRelay(), startRelay()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  // The delivery guarantees hold whatever the transport: the same tests over SSE and over the agent socket.
  describe.each<StreamTransportName>(['sse', 'ws'])('over %s', (transport) => {
    const open = streamOpener(transport);

    it('delivers once across two relay instances: webhook into A, stream on B', async () => {
      const agent = await pairAgent(a.url, `two-instance-user-${transport}`);
      const stream = await open(b.url, agent.token);
      await sendMessage(a.url, userMessage(`two-instance-user-${transport}`, 'first'));
      await sendMessage(b.url, userMessage(`two-instance-user-${transport}`, 'second'));
      await sendMessage(a.url, userMessage(`two-instance-user-${transport}`, 'third'));
      await stream.waitForCount('message', 3);
      expect(texts(stream)).toEqual(['first', 'second', 'third']);
      expect(ids(stream)).toEqual([1, 2, 3]);
      // Delivery is recorded as the account's mark (the rows themselves are not rewritten).
      await waitUntil(async () => {
        const marks = await sql<{ seq: number }>(
          'SELECT delivered_seq::int AS seq FROM account_deliveries WHERE account_id = $1',
          [agent.accountId],
        );
        return marks[0]?.seq === 3;
      });
      const rows = await sql<{ status: string; stored: string }>(
        `SELECT v.status, m.status AS stored FROM inbound_message_states v JOIN inbound_messages m USING (id)
          WHERE v.account_id = $1 ORDER BY v.seq`,
        [agent.accountId],
      );
      expect(rows).toEqual([
        { status: 'delivered', stored: 'queued' },
        { status: 'delivered', stored: 'queued' },
        { status: 'delivered', stored: 'queued' },
      ]);
      stream.close();
    });

    it('50 concurrent webhooks for one user: each stored and delivered exactly once, in sequence order', async () => {
      const agent = await pairAgent(a.url, `burst-user-${transport}`);
      const stream = await open(b.url, agent.token);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          sendMessage(i % 2 ? a.url : b.url, userMessage(`burst-user-${transport}`, `burst ${i}`)),
        ),
      );
      expect(answers.every((x) => x.useCallback === true)).toBe(true);
      await stream.waitForCount('message', 50);
      await sendMessage(a.url, userMessage(`burst-user-${transport}`, 'sentinel'));
      await stream.waitForCount('message', 51);
      const got = texts(stream);
      expect(got).toHaveLength(51);
      expect(new Set(got).size).toBe(51);
      expect(ids(stream)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      const rows = await sql<{ n: number }>(
        'SELECT count(*)::int AS n FROM inbound_messages WHERE account_id = $1',
        [agent.accountId],
      );
      expect(rows[0].n).toBe(51);
      stream.close();
    });

    it('200 concurrent webhooks for 200 users: each stored and delivered exactly once', async () => {
      const agents = await Promise.all(
        Array.from({ length: 200 }, (_, i) => pairAgent(a.url, `crowd-${transport}-${i}`)),
      );
      const streams = await Promise.all(agents.map((agent, i) => open(i % 2 ? a.url : b.url, agent.token)));
      const answers = await Promise.all(
        agents.map((agent, i) =>
          sendMessage(i % 2 ? b.url : a.url, userMessage(agent.userKey, `hello from ${i}`)),
        ),
      );
      expect(answers.every((x) => x.useCallback === true)).toBe(true);
      await Promise.all(streams.map((s) => s.waitForCount('message', 1)));
      // Second round as a sentinel: nothing of the first round may come twice.
      await Promise.all(
        agents.map((agent, i) => sendMessage(a.url, userMessage(agent.userKey, `again ${i}`))),
      );
      await Promise.all(streams.map((s) => s.waitForCount('message', 2)));
      streams.forEach((s, i) => expect(texts(s)).toEqual([`hello from ${i}`, `again ${i}`]));
      const rows = await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM inbound_messages WHERE conversation_key LIKE '%:crowd-${transport}-%'`,
      );
      expect(rows[0].n).toBe(400);
      streams.forEach((s) => s.close());
    });

    it('several streams of one account each receive every event', async () => {
      const agent = await pairAgent(a.url, `multi-stream-user-${transport}`);
      const s1 = await open(a.url, agent.token);
      const s2 = await open(b.url, agent.token);
      await sendMessage(a.url, userMessage(`multi-stream-user-${transport}`, 'to both'));
      await Promise.all([s1.waitFor('message'), s2.waitFor('message')]);
      expect(texts(s1)).toEqual(['to both']);
      expect(texts(s2)).toEqual(['to both']);
      s1.close();
      s2.close();
    });

    it('reconnect: missing messages come once; with Last-Event-ID the written-but-unanswered ones come again', async () => {
      const agent = await pairAgent(a.url, `flaky-agent-${transport}`);
      const first = await open(b.url, agent.token);
      await sendMessage(a.url, userMessage(`flaky-agent-${transport}`, 'm1'));
      await sendMessage(a.url, userMessage(`flaky-agent-${transport}`, 'm2'));
      await first.waitForCount('message', 2);
      first.close();
      // Wait until both are marked delivered (the stream marks in batches).
      await waitUntil(async () => {
        const rows = await sql<{ n: number }>(
          "SELECT count(*)::int AS n FROM inbound_message_states WHERE account_id = $1 AND status = 'delivered'",
          [agent.accountId],
        );
        return rows[0].n === 2;
      });
      await sendMessage(a.url, userMessage(`flaky-agent-${transport}`, 'm3'));
      await sendMessage(b.url, userMessage(`flaky-agent-${transport}`, 'm4'));

      const plain = await open(a.url, agent.token);
      await plain.waitForCount('message', 2);
      expect(texts(plain)).toEqual(['m3', 'm4']);
      expect(ids(plain)).toEqual([3, 4]);
      await sendMessage(a.url, userMessage(`flaky-agent-${transport}`, 'm5'));
      await plain.waitForCount('message', 3);
      expect(texts(plain)).toEqual(['m3', 'm4', 'm5']);
      plain.close();

      const resumed = await open(b.url, agent.token, 1);
      await resumed.waitForCount('message', 4);
      expect(texts(resumed)).toEqual(['m2', 'm3', 'm4', 'm5']);
      expectStrictlyIncreasing(resumed.events.map((e) => Number(e.id)));
      expect(Number(resumed.events[0].id)).toBe(1);
      resumed.close();
    });
  });

  it('an account holds SSE and WebSocket streams at once, on either replica; each gets every event', async () => {
    const agent = await pairAgent(a.url, 'mixed-transports-user');
    const sse = await openStream(a.url, agent.token);
    const ws = await streamOpener('ws')(b.url, agent.token);
    await sendMessage(b.url, userMessage('mixed-transports-user', 'to both transports'));
    await Promise.all([sse.waitFor('message'), ws.waitFor('message')]);
    expect(texts(sse)).toEqual(['to both transports']);
    expect(texts(ws)).toEqual(['to both transports']);
    expect(ids(sse)).toEqual(ids(ws));
    sse.close();
    ws.close();
  });

  it('parses a channel message once for all the local streams of its channel', async () => {
    const pubsub = a.app.get(PubSubService);
    const channel = pubsub.channel('parse-once-test');
    const seen: unknown[] = [];
    const removers = await Promise.all(
      [1, 2, 3].map(() => pubsub.subscribe(channel, (_raw, json) => seen.push(json()))),
    );
    try {
      await pubsub.publish(channel, JSON.stringify({ kind: 'error', data: { n: 1 } }));
      await waitUntil(async () => seen.length === 3);
      expect(seen[0]).toEqual({ kind: 'error', data: { n: 1 } });
      expect(seen[1]).toBe(seen[0]);
      expect(seen[2]).toBe(seen[0]);
    } finally {
      for (const remove of removers) remove();
    }
  });

  it('1,000 streams opened (and mostly replaced) and closed leave no Redis connection, subscription or listener behind', async () => {
    const agent = await pairAgent(a.url, 'many-streams');
    const pubsub = a.app.get(PubSubService);
    const admin = new Redis({ ...redisOptionsFromUrl(TEST_REDIS_URL), maxRetriesPerRequest: 1 });
    // Connections on this test's database index only: the Redis server is shared with other test runs.
    const db = `db=${redisOptionsFromUrl(TEST_REDIS_URL).db ?? 0}`;
    const clientCount = async () =>
      String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.split(' ').includes(db)).length;
    const channelCount = async () => (await admin.pubsub('CHANNELS', `${TEST_REDIS_PREFIX}:*`)).length;
    try {
      const baseline = {
        clients: await clientCount(),
        channels: await channelCount(),
        local: pubsub.subscribedChannelCount,
        processListeners: process.listenerCount('SIGTERM') + process.listenerCount('exit'),
      };
      for (let round = 0; round < 10; round++) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            SseClient.connect(a.url, { token: agent.token, tokenInQuery: i % 2 === 0 }),
          ),
        );
        try {
          // MAX_STREAMS_PER_TOKEN (3): each newer stream replaces the oldest, so all but three end replaced.
          const firsts = await Promise.all(
            batch.map((s) => s.waitFor((e) => e.event === 'connected' || e.event === 'error')),
          );
          const replaced = () =>
            batch.filter((s) =>
              s.dataOf<{ code: string }>('error').some((e) => e.code === 'STREAM_REPLACED'),
            );
          // Replaced streams are also closed by the relay.
          await waitUntil(async () => replaced().length === 97 && replaced().every((s) => s.ended));
          expect(firsts.filter((e) => e.event === 'connected').length).toBeGreaterThanOrEqual(3);
        } finally {
          batch.forEach((s) => s.close());
        }
      }
      await waitUntil(async () => pubsub.subscribedChannelCount === baseline.local);
      await waitUntil(async () => (await channelCount()) === baseline.channels);
      expect(await clientCount()).toBe(baseline.clients);
      expect(process.listenerCount('SIGTERM') + process.listenerCount('exit')).toBe(
        baseline.processListeners,
      );
      // The relay still delivers afterwards.
      const stream = await openStream(a.url, agent.token);
      await sendMessage(b.url, userMessage('many-streams', 'still here'));
      await stream.waitFor('message');
      stream.close();
    } finally {
      // Also when an expectation failed: an open connection would keep Jest from exiting.
      admin.disconnect();
    }
  });
});

describe('agent stream details (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay({ SSE_HEARTBEAT_SECONDS: '1' });
  });
  afterAll(() => relay.close());

  it('sends "ping" heartbeat events (no id) and keeps the stream open', async () => {
    const agent = await pairAgent(relay.url, 'heartbeat-user');
    const stream = await openStream(relay.url, agent.token);
    await waitUntil(async () => stream.events.filter((e) => e.event === 'ping').length >= 2, 5000);
    const ping = stream.events.find((e) => e.event === 'ping');
    expect(ping?.raw).toBe('event: ping\ndata: {}\n\n');
    expect(ping?.id).toBeUndefined();
    expect(stream.comments).toEqual([]);
    expect(stream.ended).toBe(false);
    await sendMessage(relay.url, userMessage('heartbeat-user', 'after pings'));
    await stream.waitFor('message');
    stream.close();
  });

  it('a publish refused while the queue works: the message reaches the stream through the delivery queue', async () => {
    const agent = await pairAgent(relay.url, 'publish-fallback-user');
    const stream = await openStream(relay.url, agent.token);
    // The webhook's direct PUBLISH is refused once; the inbound-delivery worker's publish goes through.
    const publisher = relay.app.get(StreamEventPublisher);
    const spy = jest
      .spyOn(publisher, 'toAccount')
      .mockImplementationOnce(() => Promise.reject(new Error('publish refused')));
    try {
      await sendMessage(relay.url, userMessage('publish-fallback-user', 'through the queue'));
      const event = await stream.waitFor('message', 10000);
      expect(JSON.parse(event.data).normalized.text).toBe('through the queue');
      expect(spy).toHaveBeenCalledTimes(2);
      expect(stream.events.filter((e) => e.event === 'message')).toHaveLength(1);
    } finally {
      spy.mockRestore();
      stream.close();
    }
  });

  it('accepts an account relay token: connected with sessionId null, then messages', async () => {
    const agent = await pairAgent(relay.url, 'account-token-user');
    const { generateToken, hashToken } = await import('@app/core');
    const token = generateToken();
    await sql('UPDATE accounts SET relay_token_hash = $2 WHERE id = $1', [agent.accountId, hashToken(token)]);
    const stream = await openStream(relay.url, token);
    expect(JSON.parse(stream.events[0].data)).toEqual({
      accountId: agent.accountId,
      sessionId: null,
      status: 'paired',
    });
    await sendMessage(relay.url, userMessage('account-token-user', 'for the account token'));
    expect(JSON.parse((await stream.waitFor('message')).data).normalized.text).toBe('for the account token');
    stream.close();
  });
});
