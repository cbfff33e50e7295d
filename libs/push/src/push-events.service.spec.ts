import { FixedClock, PushDelivery, PushRoute } from '@app/core';
import { AccountEventTaps, messageEventData } from '@app/messaging';
import { Webhook } from 'standardwebhooks';
import { AttemptOutcome, PushDeliverer } from './push-deliverer';
import { MAX_DIRECT_ATTEMPTS, MAX_DIRECT_WAIT_MS, PushEvents } from './push-events.service';
import { PushRoutesLookup } from './push-routes';
import { generatePushSecret, signPush } from './push-signing';
import { MemoryDeliveries, RecordingQueue, storedMessage } from './push-fakes.spec-helper';

/** A deliverer that records each attempt (the delivery and whether its row existed) and answers `outcome`. */
function setup(
  routes: PushRoute[],
  outcome: () => Promise<AttemptOutcome> = async () => ({ kind: 'delivered' }),
) {
  const taps = new AccountEventTaps();
  const deliveries = new MemoryDeliveries();
  const queue = new RecordingQueue();
  const clock = new FixedClock();
  const lookup: PushRoutesLookup = { get: (id) => routes.find((r) => r.accountId === id) };
  // The live path's deliveries carry their bodies (only the store leaves a message's out).
  const attempts: { delivery: PushDelivery & { body: string }; stored: boolean }[] = [];
  const deliverer = {
    attempt: (delivery: PushDelivery, stored = true) => {
      if (delivery.body === null) throw new Error('a live delivery without its body');
      attempts.push({ delivery: { ...delivery, body: delivery.body }, stored });
      return outcome();
    },
  } as unknown as PushDeliverer;
  const events = new PushEvents(taps, lookup, deliveries.asStore(), queue.asQueue(), deliverer, clock);
  events.onModuleInit();
  return { taps, deliveries, queue, events, attempts, clock };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const route: PushRoute = { endpointId: 'e1', accountId: 'acct', events: ['message', 'error'] };
const error = (code = 'X') => ({ kind: 'error' as const, data: { code, message: 'x' } });

describe('PushEvents (account events → deliveries)', () => {
  it('attempts each message at once, before anything is stored, once however often it is published', async () => {
    const { taps, deliveries, queue, attempts } = setup([route]);
    const message = storedMessage(7, new Date(Date.UTC(2026, 0, 1)));
    const envelope = { kind: 'message' as const, seq: 7, data: messageEventData(message) };
    taps.emit('acct', envelope);
    taps.emit('acct', envelope); // published twice (a retry): attempted once
    await flush();
    expect(attempts).toHaveLength(1);
    const [{ delivery, stored }] = attempts;
    // The row is written by the deliverer with the attempt's outcome, not before it.
    expect(stored).toBe(false);
    expect(deliveries.rows).toEqual([]);
    expect(delivery).toMatchObject({
      endpointId: 'e1',
      accountId: 'acct',
      webhookId: message.id,
      eventType: 'message.received',
      seq: 7,
      messageId: message.id,
      status: 'pending',
      attempts: 0,
      createdAt: new Date(Date.UTC(2026, 0, 1)),
    });
    expect(delivery.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const body = JSON.parse(delivery.body);
    expect(body).toMatchObject({ type: 'message.received', seq: 7, timestamp: '2026-01-01T00:00:00.000Z' });
    expect(body.data).toMatchObject({
      id: message.id,
      kakaoPayload: message.payload,
      payload: message.payload,
    });
    expect(queue.added).toEqual([]);
    // The body is what gets signed, and the library verifies it.
    const secret = generatePushSecret();
    const headers = signPush([secret], message.id, new Date(), delivery.body);
    expect(new Webhook(secret).verify(delivery.body, { ...headers })).toEqual(body);
  });

  it('queues the retry of a first attempt that failed, delayed until its time, under the id its row was stored with', async () => {
    const { taps, queue, attempts } = setup([route], async () => ({
      kind: 'retry',
      retryAt: Date.UTC(2026, 0, 1) + 5000,
    }));
    taps.emit('acct', error());
    await flush();
    expect(attempts).toHaveLength(1);
    expect(queue.added).toEqual([attempts[0].delivery.id]);
    expect(queue.delays).toEqual([5000]);
  });

  it('queues nothing when the message sweep stored the delivery first (skipped)', async () => {
    const { taps, queue, attempts } = setup([route], async () => ({ kind: 'skipped' }));
    taps.emit('acct', error());
    await flush();
    expect(attempts).toHaveLength(1);
    expect(queue.added).toEqual([]);
  });

  it('ignores accounts without an endpoint, filtered events and stream-only envelopes', async () => {
    const { taps, attempts } = setup([route]);
    taps.emit('other', error());
    taps.emit('acct', { kind: 'pairing_expired', data: { reason: 'unpaired' } });
    taps.emit('acct', { kind: 'stream_replaced', streamIds: ['s'] });
    await flush();
    expect(attempts).toEqual([]);
  });

  it('gives each non-message event its own stable id and the SSE data', async () => {
    const { taps, attempts } = setup([route]);
    const data = { code: 'CALLBACK_FAILED', message: 'nope', messageId: 'm1' };
    taps.emit('acct', { kind: 'error', data });
    taps.emit('acct', { kind: 'error', data });
    await flush();
    // Two events (not one published twice): two ids.
    expect(attempts).toHaveLength(2);
    expect(attempts[0].delivery.webhookId).toMatch(/^evt_[0-9a-f-]{36}$/);
    expect(attempts[1].delivery.webhookId).not.toBe(attempts[0].delivery.webhookId);
    expect(attempts[0].delivery.seq).toBeNull();
    expect(JSON.parse(attempts[0].delivery.body)).toEqual({
      type: 'reply.failed',
      timestamp: '2026-01-01T00:00:00.000Z',
      data,
    });
  });

  it('never throws into the publisher when the attempt fails (the message sweep makes the delivery later)', async () => {
    const { taps, queue, attempts } = setup([route], async () => {
      throw new Error('database away');
    });
    expect(() =>
      taps.emit('acct', {
        kind: 'message',
        seq: 1,
        data: messageEventData(storedMessage(1, new Date())),
      }),
    ).not.toThrow();
    await flush();
    expect(attempts).toHaveLength(1);
    expect(queue.added).toEqual([]);
  });

  it(`runs at most ${MAX_DIRECT_ATTEMPTS} attempts at once; one that waited past ${MAX_DIRECT_WAIT_MS} ms is stored and queued instead`, async () => {
    const finish: Array<() => void> = [];
    const { taps, deliveries, queue, attempts, clock } = setup(
      [route],
      () => new Promise<AttemptOutcome>((resolve) => finish.push(() => resolve({ kind: 'delivered' }))),
    );
    for (let i = 0; i < MAX_DIRECT_ATTEMPTS + 3; i++) taps.emit('acct', error(`E${i}`));
    await flush();
    expect(attempts).toHaveLength(MAX_DIRECT_ATTEMPTS);
    // One slot frees in time: the next waiting event is attempted.
    finish.shift()?.();
    await flush();
    expect(attempts).toHaveLength(MAX_DIRECT_ATTEMPTS + 1);
    expect(JSON.parse(attempts[MAX_DIRECT_ATTEMPTS].delivery.body).data.code).toBe(`E${MAX_DIRECT_ATTEMPTS}`);
    // The other two wait too long: the next free slot sends them to the queue, stored pending.
    clock.advance(MAX_DIRECT_WAIT_MS + 1);
    finish.shift()?.();
    await flush();
    expect(attempts).toHaveLength(MAX_DIRECT_ATTEMPTS + 1);
    expect(deliveries.rows.map((r) => JSON.parse(r.body).data.code)).toEqual([
      `E${MAX_DIRECT_ATTEMPTS + 1}`,
      `E${MAX_DIRECT_ATTEMPTS + 2}`,
    ]);
    // Queued under the ids they were stored with: those of the deliveries that waited.
    expect(queue.added).toEqual(deliveries.rows.map((r) => r.id));
    expect(new Set([...queue.added, ...attempts.map((a) => a.delivery.id)]).size).toBe(
      MAX_DIRECT_ATTEMPTS + 3,
    );
  });
});
