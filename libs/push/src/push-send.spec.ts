import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { PushSendRequest, PushThreadSender } from './push-send';
import { generatePushSecret } from './push-signing';

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local receiver: answers each request with `answer` (or never, when it returns null). */
async function receiver(
  answer: (seen: Seen) => { status: number; headers?: Record<string, string>; body?: string } | null,
) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(got);
      const a = answer(got);
      if (a) res.writeHead(a.status, a.headers).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    url: `http://127.0.0.1:${port}/hook`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function request(url: string, secret: string, body = '{"type":"message.received","data":{}}') {
  return {
    url,
    address: { address: '127.0.0.1', family: 4 as const },
    secrets: [secret],
    webhookId: 'msg_1',
    signedAt: Date.UTC(2026, 10, 30, 12),
    body,
    timeoutMs: 2000,
  } satisfies Omit<PushSendRequest, 'id'>;
}

describe('PushThreadSender (signing and sending on a worker thread)', () => {
  const sender = new PushThreadSender();
  afterAll(() => sender.onApplicationShutdown());

  it('sends the body signed per Standard Webhooks and brings back the status, Retry-After and answer', async () => {
    const hook = await receiver(() => ({
      status: 429,
      headers: { 'Retry-After': '7' },
      body: '{"response":null}',
    }));
    try {
      const secret = generatePushSecret();
      const result = await sender.send(request(hook.url, secret));
      expect(result.answer).toEqual({
        kind: 'answer',
        status: 429,
        retryAfter: '7',
        text: '{"response":null}',
      });
      expect(result.latencyMs).toBeGreaterThan(0);
      const [got] = hook.seen;
      expect(got.headers['webhook-id']).toBe('msg_1');
      expect(got.headers['webhook-timestamp']).toBe(String(Date.UTC(2026, 10, 30, 12) / 1000));
      expect(got.headers['user-agent']).toBe('kakao-relay-push');
      // The library verifies it (with its own clock check relaxed to the attempt's time).
      jest.useFakeTimers({ now: Date.UTC(2026, 10, 30, 12), doNotFake: ['nextTick', 'setImmediate'] });
      try {
        expect(
          new Webhook(secret).verify(got.body, {
            'webhook-id': got.headers['webhook-id'] as string,
            'webhook-timestamp': got.headers['webhook-timestamp'] as string,
            'webhook-signature': got.headers['webhook-signature'] as string,
          }),
        ).toEqual(JSON.parse(got.body));
      } finally {
        jest.useRealTimers();
      }
    } finally {
      await hook.close();
    }
  });

  it('answers "no answer" for what was in flight when the thread died, and starts a new one for the next', async () => {
    let hang = true;
    const hook = await receiver(() => (hang ? null : { status: 204 }));
    try {
      const inFlight = sender.send(request(hook.url, generatePushSecret()));
      await new Promise((r) => setTimeout(r, 200));
      expect(hook.seen).toHaveLength(1);
      await (sender as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      expect((await inFlight).answer).toEqual({ kind: 'no-answer', error: 'push sender thread exited (1)' });
      hang = false;
      expect((await sender.send(request(hook.url, generatePushSecret()))).answer).toMatchObject({
        kind: 'answer',
        status: 204,
      });
    } finally {
      await hook.close();
    }
  });

  it('hands the attempts asked for in one turn to the thread in one message, and answers each of them', async () => {
    const hook = await receiver((seen) => ({ status: 200, body: `{"got":"${seen.headers['webhook-id']}"}` }));
    try {
      const secret = generatePushSecret();
      await sender.send(request(hook.url, secret)); // the thread is up
      const worker = (sender as unknown as { worker: { postMessage(batch: unknown[]): void } }).worker;
      const handOver = jest.spyOn(worker, 'postMessage');
      const ids = ['msg_a', 'msg_b', 'msg_c', 'msg_d', 'msg_e'];
      const results = await Promise.all(
        ids.map((webhookId) => sender.send({ ...request(hook.url, secret), webhookId })),
      );
      expect(handOver).toHaveBeenCalledTimes(1);
      expect((handOver.mock.calls[0][0] as PushSendRequest[]).map((r) => r.webhookId)).toEqual(ids);
      // Each promise got its own answer, whatever the order they came back in.
      expect(results.map((r) => r.answer)).toEqual(
        ids.map((id) => ({ kind: 'answer', status: 200, retryAfter: null, text: `{"got":"${id}"}` })),
      );
      expect(
        hook.seen
          .slice(1)
          .map((s) => s.headers['webhook-id'])
          .sort(),
      ).toEqual(ids);
      handOver.mockRestore();
    } finally {
      await hook.close();
    }
  });

  it('answers "no answer" when the receiver does not answer in time', async () => {
    const hook = await receiver(() => null);
    try {
      const result = await sender.send({ ...request(hook.url, generatePushSecret()), timeoutMs: 100 });
      expect(result.answer).toEqual({ kind: 'no-answer', error: 'no answer within 100 ms' });
    } finally {
      await hook.close();
    }
  });
});
