import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import request from 'supertest';
import { generateToken, hashToken } from '@app/core';
import { redisOptionsFromUrl, StreamSlots } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import {
  createSession,
  kakaoPayload,
  openStream,
  pairAgent,
  PairedAgent,
  resetState,
  sendMessage,
  SseClient,
  AgentStreamClient,
  streamOpener,
  StreamTransportName,
  WsClient,
  sql,
  TEST_ADMIN_TOKEN,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  uniqueCallbackUrl,
  userMessage,
  waitUntil,
  expectErrorBody,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';
import { StreamHub } from '@app/streams';
import { RelayProcess, spawnRelay } from './support/relay-process';
import { collectGarbage } from './support/processes';
import { StalledStream } from './support/stalled-stream';

/** A message whose payload is about `kib` KiB (an extra field the relay stores and forwards as received). */
function bigMessage(userKey: string, text: string, kib: number) {
  const payload = kakaoPayload({ utterance: text, userKey, callbackUrl: uniqueCallbackUrl() });
  (payload as unknown as { padding: string }).padding = 'x'.repeat(kib * 1024);
  return payload;
}

async function metricValue(relay: RunningRelay, name: string, labels = ''): Promise<number> {
  const text = await relay.app.get(RelayMetrics).registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

function errorCodes(stream: AgentStreamClient): string[] {
  return stream.dataOf<{ code: string }>('error').map((e) => e.code);
}

describe('agent stream limits (e2e, contract §7)', () => {
  beforeAll(() => resetState());

  describe('per token and per address', () => {
    let a: RunningRelay;
    let b: RunningRelay;

    beforeAll(async () => {
      [a, b] = await Promise.all([
        startRelay({ MAX_STREAMS_PER_IP: '4', SSE_HEARTBEAT_SECONDS: '1' }),
        startRelay({ MAX_STREAMS_PER_IP: '4', SSE_HEARTBEAT_SECONDS: '1' }),
      ]);
    });
    afterAll(() => Promise.all([a.close(), b.close()]));
    afterEach(async () => {
      // Every stream of a test is closed by then; wait until both relays released their slots.
      await waitUntil(async () => a.app.get(StreamHub).size + b.app.get(StreamHub).size === 0);
    });

    describe.each<StreamTransportName>(['sse', 'ws'])('over %s', (transport) => {
      const open = streamOpener(transport);

      it('a fourth stream of one token replaces the oldest with STREAM_REPLACED, across replicas', async () => {
        const agent = await pairAgent(a.url, `cap-token-user-${transport}`);
        const s1 = await open(a.url, agent.token);
        const s2 = await open(b.url, agent.token);
        const s3 = await open(a.url, agent.token);
        expect([s1, s2, s3].map((s) => s.ended)).toEqual([false, false, false]);

        const s4 = await open(b.url, agent.token);
        await s1.waitForEnd();
        expect(errorCodes(s1)).toEqual(['STREAM_REPLACED']);
        if (transport === 'sse') {
          expect(s1.events.at(-1)?.raw).toMatch(/^id: \d+\nevent: error\ndata: \{"code":"STREAM_REPLACED"/);
        } else {
          expect((s1 as WsClient).closeCode).toBe(4429);
        }

        // The oldest is now s2, held by the other replica.
        const s5 = await open(a.url, agent.token);
        await s2.waitForEnd();
        expect(errorCodes(s2)).toEqual(['STREAM_REPLACED']);

        await sendMessage(a.url, userMessage(`cap-token-user-${transport}`, 'to the three left'));
        for (const s of [s3, s4, s5]) {
          expect(JSON.parse((await s.waitFor('message')).data).normalized.text).toBe('to the three left');
          expect(s.ended).toBe(false);
        }
        expect(
          await metricValue(a, 'relay_streams_closed_total', '{reason="replaced"}'),
        ).toBeGreaterThanOrEqual(1);
        [s3, s4, s5].forEach((s) => s.close());
      });
    });

    it('a stream replaced while the announcement was lost ends on the next heartbeat', async () => {
      const agent = await pairAgent(a.url, 'cap-lost-user');
      const stream = await openStream(a.url, agent.token);
      const [session] = await sql<{ id: string }>('SELECT id FROM sessions WHERE account_id = $1', [
        agent.accountId,
      ]);
      // Another replica claims a place for the same credential with room for one, and never publishes.
      const slots = b.app.get(StreamSlots);
      const slot = slots.slot(slots.newId(), `s:${session.id}`, '203.0.113.9');
      const claimed = await slots.claim(slot, { perCredential: 1, perAddress: 10 }, 1000);
      expect(claimed).toEqual({ allowed: true, replaced: [expect.any(String)] });
      await stream.waitForEnd(5000);
      expect(errorCodes(stream)).toEqual(['STREAM_REPLACED']);
      await slots.release(slot);
    });

    it('streams survive Redis losing their slots (a restart without data): the entries are put back', async () => {
      const agent = await pairAgent(a.url, 'cap-flushed-user');
      const stream = await openStream(a.url, agent.token);
      const redis = new Redis({ ...redisOptionsFromUrl(TEST_REDIS_URL), maxRetriesPerRequest: 1 });
      try {
        const keys = await redis.keys(`${TEST_REDIS_PREFIX}:stream-slots:*`);
        expect(keys.length).toBeGreaterThan(0);
        for (const key of keys) await redis.del(key);
        await waitUntil(
          async () => (await redis.keys(`${TEST_REDIS_PREFIX}:stream-slots:cred:*`)).length > 0,
          5000,
        );
      } finally {
        redis.disconnect();
      }
      await sendMessage(a.url, userMessage('cap-flushed-user', 'still here'));
      expect(JSON.parse((await stream.waitFor('message')).data).normalized.text).toBe('still here');
      expect(stream.ended).toBe(false);
      stream.close();
    });

    it('the address holding MAX_STREAMS_PER_IP streams gets 429 TOO_MANY_STREAMS, on any replica', async () => {
      const agents: PairedAgent[] = [];
      for (let i = 0; i < 3; i++) agents.push(await pairAgent(a.url, `cap-ip-user-${i}`));
      const [s1, s2, s3, s4] = [
        await openStream(a.url, agents[0].token),
        await openStream(b.url, agents[0].token),
        await openStream(a.url, agents[0].token),
        await openStream(b.url, agents[1].token),
      ];
      for (const relay of [a, b]) {
        const refused = await request(relay.url)
          .get('/v1/events')
          .set('Authorization', `Bearer ${agents[2].token}`);
        expectErrorBody(refused, 429, 'TOO_MANY_STREAMS', { retryAfter: true });
      }
      expect(await metricValue(a, 'relay_streams_refused_total')).toBe(1);

      // A token at its own cap still reconnects from the full address: its oldest stream makes room.
      const s5 = await openStream(a.url, agents[0].token);
      await s1.waitForEnd();
      expect(errorCodes(s1)).toEqual(['STREAM_REPLACED']);

      // A closed stream gives its place back.
      s4.close();
      await waitUntil(async () => {
        const s = await SseClient.connect(a.url, { token: agents[2].token });
        const ok = s.status === 200;
        s.close();
        return ok;
      });
      [s2, s3, s5].forEach((s) => s.close());
    });
  });

  describe('slow consumers and paged replay', () => {
    let relay: RunningRelay;

    beforeAll(async () => {
      relay = await startRelay({ STREAM_MAX_BUFFER_BYTES: String(64 * 1024), SSE_HEARTBEAT_SECONDS: '60' });
    });
    afterAll(() => relay.close());

    it('closes a stream that does not read past STREAM_MAX_BUFFER_BYTES; Last-Event-ID then gets everything', async () => {
      const agent = await pairAgent(relay.url, 'slow-user');
      const stalled = await StalledStream.open(relay.port, agent.token);
      expect(stalled.status).toBe(200);
      const hub = relay.app.get(StreamHub);
      await waitUntil(async () => hub.size === 1);
      for (let i = 1; i <= 12; i++) await sendMessage(relay.url, bigMessage('slow-user', `big ${i}`, 700));
      // The relay gave up on the stream (its buffer passed 64 KiB) instead of holding 8 MB for it.
      await waitUntil(async () => hub.size === 0, 10000);
      expect(await metricValue(relay, 'relay_streams_closed_total', '{reason="slow_consumer"}')).toBe(1);

      const seen = await stalled.drain();
      const lastSeen = seen.length > 0 ? seen[seen.length - 1].id : 0;
      expect(lastSeen).toBeLessThan(12);
      const resumed = await openStream(relay.url, agent.token, lastSeen);
      const rest = await resumed.waitForCount('message', 12 - lastSeen, 20000);
      const ids = [...seen.map((e) => e.id), ...rest.map((e) => Number(e.id))];
      expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(rest.map((e) => JSON.parse(e.data).normalized.text)).toEqual(
        Array.from({ length: 12 - lastSeen }, (_, i) => `big ${lastSeen + i + 1}`),
      );
      resumed.close();
    });

    describe.each<StreamTransportName>(['sse', 'ws'])('over %s', (transport) => {
      const open = streamOpener(transport);

      it('replays a backlog larger than a page in order, each message once', async () => {
        const agent = await pairAgent(relay.url, `backlog-user-${transport}`);
        for (let i = 1; i <= 150; i++)
          await sendMessage(relay.url, userMessage(`backlog-user-${transport}`, `m${i}`));
        const stream = await open(relay.url, agent.token);
        const events = await stream.waitForCount('message', 150, 20000);
        expect(events.map((e) => Number(e.id))).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
        expect(events.map((e) => JSON.parse(e.data).normalized.text)[149]).toBe('m150');
        stream.close();
        // Every message was written once: a plain reconnect owes nothing.
        const again = await open(relay.url, agent.token);
        await sendMessage(relay.url, userMessage(`backlog-user-${transport}`, 'live'));
        expect(JSON.parse((await again.waitFor('message')).data).normalized.text).toBe('live');
        expect(again.events.filter((e) => e.event === 'message')).toHaveLength(1);
        again.close();
      });
    });

    it('serialises a live event once per process, however many streams write it', async () => {
      const agent = await pairAgent(relay.url, 'fanout-user');
      const relayToken = generateToken();
      await sql('UPDATE accounts SET relay_token_hash = $2 WHERE id = $1', [
        agent.accountId,
        hashToken(relayToken),
      ]);
      const streams = await Promise.all([
        openStream(relay.url, agent.token),
        openStream(relay.url, agent.token),
        openStream(relay.url, agent.token),
        openStream(relay.url, relayToken),
        openStream(relay.url, relayToken),
      ]);
      const before = await metricValue(relay, 'relay_stream_event_serializations_total');
      await sendMessage(relay.url, userMessage('fanout-user', 'one for all'));
      const raws = await Promise.all(streams.map(async (s) => (await s.waitFor('message')).raw));
      expect(new Set(raws).size).toBe(1);
      expect((await metricValue(relay, 'relay_stream_event_serializations_total')) - before).toBe(1);
      streams.forEach((s) => s.close());
    });
  });

  it('writes one "request completed" line per stream (when it ends) and per refusal, with the request id', async () => {
    const relay = await startRelay({ LOG_LEVEL: 'info' });
    const root = PinoLogger.root;
    const lines: Array<{ level: string; fields: { req: { id: string }; res: { statusCode: number } } }> = [];
    const spies = (['info', 'warn'] as const).map((level) =>
      jest.spyOn(root, level).mockImplementation(((fields: never, msg?: string) => {
        if (msg === 'request completed') lines.push({ level, fields });
      }) as never),
    );
    try {
      const agent = await pairAgent(relay.url, 'stream-log-user');
      lines.length = 0;
      const stream = await SseClient.connect(relay.url, {
        token: agent.token,
        headers: { 'X-Request-Id': 'stream-ok' },
      });
      await stream.waitFor('connected');
      expect(stream.headers['x-request-id']).toBe('stream-ok');
      expect(lines).toHaveLength(0);
      stream.close();
      const refused = await SseClient.connect(relay.url, {
        token: 'f'.repeat(64),
        headers: { 'X-Request-Id': 'stream-denied' },
      });
      expect(refused.status).toBe(401);
      await waitUntil(async () => lines.length === 2);
    } finally {
      for (const spy of spies) spy.mockRestore();
      await relay.close();
    }
    const byId = Object.fromEntries(lines.map((l) => [l.fields.req.id, l]));
    expect(byId['stream-ok']).toEqual(expect.objectContaining({ level: 'info' }));
    expect(byId['stream-ok'].fields.res.statusCode).toBe(200);
    expect(byId['stream-denied']).toEqual(expect.objectContaining({ level: 'warn' }));
    expect(byId['stream-denied'].fields.res.statusCode).toBe(401);
  });

  describe('revocation without Pub/Sub', () => {
    let relay: RunningRelay;

    beforeAll(async () => {
      relay = await startRelay({ SSE_HEARTBEAT_SECONDS: '1' });
    });
    afterAll(() => relay.close());

    describe.each<StreamTransportName>(['sse', 'ws'])('over %s', (transport) => {
      const open = streamOpener(transport);

      it('a session disconnected behind the relay’s back ends its stream within a heartbeat', async () => {
        const agent = await pairAgent(relay.url, `revoke-session-user-${transport}`);
        const stream = await open(relay.url, agent.token);
        await sql(`UPDATE sessions SET status = 'disconnected' WHERE account_id = $1`, [agent.accountId]);
        await stream.waitForEnd(5000);
        expect(stream.dataOf('pairing_expired')).toEqual([{ reason: 'disconnected' }]);
        if (transport === 'ws') expect((stream as WsClient).closeCode).toBe(4401);
      });

      it('a rotated relay token ends the streams of the old one within a heartbeat', async () => {
        const agent = await pairAgent(relay.url, `revoke-token-user-${transport}`);
        const oldToken = generateToken();
        await sql('UPDATE accounts SET relay_token_hash = $2 WHERE id = $1', [
          agent.accountId,
          hashToken(oldToken),
        ]);
        const byOld = await open(relay.url, oldToken);
        const bySession = await open(relay.url, agent.token);
        await sql('UPDATE accounts SET relay_token_hash = $2 WHERE id = $1', [
          agent.accountId,
          hashToken(generateToken()),
        ]);
        await byOld.waitForEnd(5000);
        expect(byOld.dataOf('pairing_expired')).toEqual([{ reason: 'disconnected' }]);
        if (transport === 'ws') expect((byOld as WsClient).closeCode).toBe(4401);
        expect(bySession.ended).toBe(false);
        bySession.close();
      });
    });

    it('a pending stream that missed pairing_complete attaches on the next heartbeat', async () => {
      const session = await createSession(relay.url);
      const stream = await SseClient.connect(relay.url, { token: session.sessionToken });
      await stream.waitFor('connected');
      const agent = await pairAgent(relay.url, 'other-user');
      // Pair the session in PostgreSQL only, as if the pairing_complete publish had been lost.
      await sql(
        `UPDATE sessions SET status = 'paired', account_id = $2, kakao_user_id = 'ghost', conversation_key = 'c:ghost',
                paired_at = now() WHERE token_hash = $1`,
        [hashToken(session.sessionToken), agent.accountId],
      );
      const paired = await stream.waitFor('pairing_complete', 5000);
      expect(JSON.parse(paired.data)).toEqual(expect.objectContaining({ accountId: agent.accountId }));
      await sendMessage(relay.url, userMessage('other-user', 'now attached'));
      expect(JSON.parse((await stream.waitFor('message')).data).normalized.text).toBe('now attached');
      stream.close();
    });
  });

  it('after the subscriber reconnects, streams re-check their credential at once', async () => {
    const relay = await startRelay({ SSE_HEARTBEAT_SECONDS: '3600' });
    const admin = new Redis({ ...redisOptionsFromUrl(TEST_REDIS_URL), maxRetriesPerRequest: 1 });
    try {
      const agent = await pairAgent(relay.url, 'revoke-reconnect-user');
      const stream = await openStream(relay.url, agent.token);
      await sql(`UPDATE sessions SET status = 'disconnected' WHERE account_id = $1`, [agent.accountId]);
      const list = String(await admin.client('LIST'));
      const subscriber = list
        .split('\n')
        .find((l) => l.includes(`name=${TEST_REDIS_PREFIX}:subscriber `) && / sub=[1-9]/.test(l));
      expect(subscriber).toBeDefined();
      const id = /id=(\d+)/.exec(subscriber as string)?.[1] as string;
      await admin.client('KILL', 'ID', id);
      await stream.waitForEnd(10000);
      expect(stream.dataOf('pairing_expired')).toEqual([{ reason: 'disconnected' }]);
    } finally {
      admin.disconnect();
      await relay.close();
    }
  });

  describe('memory against non-reading streams (a relay in its own process)', () => {
    let child: RelayProcess;

    beforeAll(async () => {
      child = await spawnRelay(
        {
          REDIS_URL: TEST_REDIS_URL,
          REDIS_PREFIX: `${TEST_REDIS_PREFIX}-rss`,
          // The caps are not what keeps memory bounded here: 30 streams of one token are allowed.
          MAX_STREAMS_PER_TOKEN: '30',
          SSE_HEARTBEAT_SECONDS: '60',
        },
        'ready',
        { gc: true },
      );
    });
    afterAll(() => child.kill('SIGKILL'));

    const rssMiB = () => {
      const status = readFileSync(`/proc/${child.proc.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    };
    const delivered = async () => {
      const res = await request(child.url).get('/metrics').set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
      return Number(/^relay_messages_delivered_total (\d+)/m.exec(res.text)?.[1] ?? 0);
    };

    it('30 streams replaying 18 MB with Last-Event-ID 0 and never reading keep the relay’s RSS bounded', async () => {
      const agent = await pairAgent(child.url, 'rss-user');
      // The fixture's text is Korean: the frames are not Latin-1 (JavaScript holds them two bytes a character).
      for (let i = 1; i <= 20; i++) await sendMessage(child.url, bigMessage('rss-user', `backlog ${i}`, 900));
      // Both readings after a full collection: what the relay holds, not what V8 has not collected yet (an
      // uncollected heap made the same peak read anywhere from 170 to 290 MiB of growth).
      const before = await collectGarbage(child);
      const streams: StalledStream[] = [];
      try {
        for (let i = 0; i < 30; i++)
          streams.push(await StalledStream.open(child.port, agent.token, { lastEventId: 0 }));
        expect(streams.every((s) => s.status === 200)).toBe(true);
        // Every stream has written what its client's buffers took and waits for it to read.
        await waitUntil(async () => (await delivered()) >= 30, 20000);
        let peak = rssMiB();
        for (let i = 0; i < 10; i++) {
          await new Promise((r) => setTimeout(r, 200));
          peak = Math.max(peak, rssMiB());
        }
        const retained = await collectGarbage(child);
        console.log(
          `RSS ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at the peak, ` +
            `${retained.toFixed(0)} MiB held with 30 stalled replays`,
        );
        // Unbounded, this is 30 × 18 MB of event text in the relay (the review saw 1.25 GB). Bounded, each stream
        // holds the bytes of the one event it could not write (1.8 MB) and its high-water mark: 57-62 MiB held,
        // 81-94 MiB at the peak. With events written as strings, each stream held 9 MB (the string, two bytes a
        // character, and Node's copy sized for three bytes a character): about 220 MiB held.
        expect(retained - before).toBeLessThan(100);
        expect(peak - before).toBeLessThan(150);
        expect(await delivered()).toBeLessThan(30 * 20);
      } finally {
        // Also when an expectation failed: an open socket would keep Jest from exiting.
        streams.forEach((s) => s.destroy());
      }
    });
  });
});
