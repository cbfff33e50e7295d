import { FixedClock, PushRoute } from '@app/core';
import { AccountEventTaps, messageEventData } from '@app/messaging';
import { Webhook } from 'standardwebhooks';
import { AttemptOutcome, PushDeliverer } from './push-deliverer';
import { PushEvents } from './push-events.service';
import { PushRoutesLookup } from './push-routes';
import { generatePushSecret, signPush } from './push-signing';
import { MemoryDeliveries, RecordingQueue, storedMessage } from './push-fakes.spec-helper';

function setup(routes: PushRoute[], outcome: AttemptOutcome = { kind: 'delivered' }) {
  const taps = new AccountEventTaps();
  const deliveries = new MemoryDeliveries();
  const queue = new RecordingQueue();
  const lookup: PushRoutesLookup = { get: (id) => routes.find((r) => r.accountId === id) };
  const attempts: string[] = [];
  const deliverer = {
    attempt: async (d: { id: string }) => {
      attempts.push(d.id);
      return outcome;
    },
  } as unknown as PushDeliverer;
  const events = new PushEvents(
    taps,
    lookup,
    deliveries.asStore(),
    queue.asQueue(),
    deliverer,
    new FixedClock(),
    { pushTimeoutMs: 10_000 },
  );
  events.onModuleInit();
  return { taps, deliveries, queue, events, attempts };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const route: PushRoute = { endpointId: 'e1', accountId: 'acct', events: ['message', 'error'] };

describe('PushEvents (account events → deliveries)', () => {
  it('makes one delivery per message, keyed by the message id, however often it is published, and attempts it at once', async () => {
    const { taps, deliveries, queue, attempts } = setup([route]);
    const message = storedMessage(7, new Date(Date.UTC(2026, 0, 1)));
    const envelope = { kind: 'message' as const, seq: 7, data: messageEventData(message) };
    taps.emit('acct', envelope);
    taps.emit('acct', envelope); // the delivery queue's retry of a refused publish
    await flush();
    expect(deliveries.rows).toHaveLength(1);
    expect(deliveries.rows[0]).toMatchObject({
      endpointId: 'e1',
      webhookId: message.id,
      eventType: 'message.received',
      seq: 7,
      messageId: message.id,
    });
    const body = JSON.parse(deliveries.rows[0].body);
    expect(body).toMatchObject({ type: 'message.received', seq: 7, timestamp: '2026-01-01T00:00:00.000Z' });
    expect(body.data).toMatchObject({
      id: message.id,
      kakaoPayload: message.payload,
      payload: message.payload,
    });
    expect(attempts).toEqual(['d1']);
    expect(queue.added).toEqual([]);
    // The stored body is what gets signed, and the library verifies it.
    const secret = generatePushSecret();
    const headers = signPush([secret], message.id, new Date(), deliveries.rows[0].body);
    expect(new Webhook(secret).verify(deliveries.rows[0].body, { ...headers })).toEqual(body);
  });

  it('queues the retry of a first attempt that failed, delayed until its time', async () => {
    const { taps, queue, attempts } = setup([route], { kind: 'retry', retryAt: Date.UTC(2026, 0, 1) + 5000 });
    taps.emit('acct', { kind: 'error', data: { code: 'X', message: 'x' } });
    await flush();
    expect(attempts).toEqual(['d1']);
    expect(queue.added).toEqual(['d1']);
    expect(queue.delays).toEqual([5000]);
  });

  it('ignores accounts without an endpoint, filtered events and stream-only envelopes', async () => {
    const { taps, deliveries } = setup([route]);
    taps.emit('other', { kind: 'error', data: { code: 'X', message: 'x' } });
    taps.emit('acct', { kind: 'pairing_expired', data: { reason: 'unpaired' } });
    taps.emit('acct', { kind: 'stream_replaced', streamIds: ['s'] });
    await flush();
    expect(deliveries.rows).toEqual([]);
  });

  it('gives each non-message event its own stable id and the SSE data', async () => {
    const { taps, deliveries } = setup([route]);
    const data = { code: 'CALLBACK_FAILED', message: 'nope', messageId: 'm1' };
    taps.emit('acct', { kind: 'error', data });
    await flush();
    expect(deliveries.rows[0].webhookId).toMatch(/^evt_[0-9a-f-]{36}$/);
    expect(deliveries.rows[0].seq).toBeNull();
    expect(JSON.parse(deliveries.rows[0].body)).toEqual({
      type: 'reply.failed',
      timestamp: '2026-01-01T00:00:00.000Z',
      data,
    });
  });

  it('never throws into the publisher when the store fails (the sweep makes the delivery later)', async () => {
    const { taps, deliveries, queue } = setup([route]);
    deliveries.failNext = true;
    expect(() =>
      taps.emit('acct', {
        kind: 'message',
        seq: 1,
        data: messageEventData(storedMessage(1, new Date())),
      }),
    ).not.toThrow();
    await flush();
    expect(deliveries.rows).toEqual([]);
    expect(queue.added).toEqual([]);
  });
});
