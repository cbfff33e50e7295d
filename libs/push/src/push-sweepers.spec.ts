import { FixedClock, PushDeliveryStore, PushEndpointStore, StoredMessage } from '@app/core';
import { liveAttemptWindowMs } from './push-events.service';
import { PushMessageSweeper, PushOverdueSweeper, PUSH_OVERDUE_AFTER_MS } from './push-sweepers';
import { MemoryDeliveries, RecordingQueue, storedMessage } from './push-fakes.spec-helper';

const NOW = Date.UTC(2026, 0, 1, 12);
const TIMEOUT_MS = 10_000;
/** How long a message is left to the live path's attempt (5 s for a turn, the timeout, 3 s): 18 s here. */
const SETTLE_MS = liveAttemptWindowMs(TIMEOUT_MS);

function setup(messages: StoredMessage[], cursor = 0) {
  const clock = new FixedClock(NOW);
  const deliveries = new MemoryDeliveries();
  const queue = new RecordingQueue();
  const state = { cursor };
  const endpoints = {
    messageCursors: async () =>
      messages.some((m) => m.seq > state.cursor)
        ? [{ endpointId: 'e1', accountId: 'acct', cursor: state.cursor }]
        : [],
    settledSeqAfter: async (_a: string, after: number, settledBefore: Date, limit: number) => {
      let upTo = after;
      for (const m of messages.filter((x) => x.seq > after).slice(0, limit)) {
        if (m.createdAt > settledBefore) break;
        upTo = m.seq;
      }
      return upTo;
    },
    messagesWithoutDelivery: async (endpointId: string, _a: string, after: number, upTo: number) =>
      messages.filter(
        (m) =>
          m.seq > after &&
          m.seq <= upTo &&
          !deliveries.rows.some((d) => d.endpointId === endpointId && d.webhookId === m.id),
      ),
    advanceCursor: async (_e: string, seq: number) => {
      state.cursor = Math.max(state.cursor, seq);
    },
  } as unknown as PushEndpointStore;
  const sweeper = new PushMessageSweeper(endpoints, deliveries.asStore(), queue.asQueue(), clock, {
    pushTimeoutMs: TIMEOUT_MS,
  });
  return { sweeper, deliveries, queue, state, clock };
}

const old = new Date(NOW - SETTLE_MS - 1000);
/** Stored 17 s ago: its live attempt may still be running (a 10 s timeout after up to 5 s waiting for a turn). */
const young = new Date(NOW - SETTLE_MS + 1000);

describe('PushMessageSweeper (stored messages without a delivery)', () => {
  it('makes the missing deliveries in sequence order and moves the cursor past them', async () => {
    const messages = [1, 2, 3].map((seq) => storedMessage(seq, old));
    const { sweeper, deliveries, queue, state } = setup(messages);
    await deliveries.insert([
      {
        id: 'd-live',
        endpointId: 'e1',
        accountId: 'acct',
        webhookId: messages[1].id,
        eventType: 'message.received',
        seq: 2,
        messageId: messages[1].id,
        body: '{}',
      },
    ]);
    expect(await sweeper.sweep()).toBe(2);
    expect(deliveries.rows.map((d) => d.seq)).toEqual([2, 1, 3]);
    // The two it made are queued, under the ids they were stored with (not the one that was there).
    expect(queue.added).toEqual([deliveries.rows[1].id, deliveries.rows[2].id]);
    expect(queue.added).not.toContain('d-live');
    expect(state.cursor).toBe(3);
    expect(await sweeper.sweep()).toBe(0);
  });

  it('leaves a message to the live path while its attempt may run, and stops there: nothing lower than the cursor can be skipped', async () => {
    const messages = [storedMessage(1, old), storedMessage(2, young), storedMessage(3, old)];
    const { sweeper, deliveries, state, clock } = setup(messages);
    expect(await sweeper.sweep()).toBe(1);
    expect(state.cursor).toBe(1);
    expect(deliveries.rows.map((d) => d.seq)).toEqual([1]);
    clock.set(NOW + 1000);
    expect(await sweeper.sweep()).toBe(2);
    expect(state.cursor).toBe(3);
  });

  it('builds the same webhook-id and body shape as the live path', async () => {
    const { sweeper, deliveries } = setup([storedMessage(5, old)], 4);
    await sweeper.sweep();
    const [row] = deliveries.rows;
    expect(row.webhookId).toBe(storedMessage(5, old).id);
    expect(JSON.parse(row.body)).toMatchObject({
      type: 'message.received',
      seq: 5,
      data: { id: row.webhookId },
    });
  });
});

describe('PushOverdueSweeper (jobs Redis lost)', () => {
  it('queues again the pending deliveries overdue by more than the grace', async () => {
    const clock = new FixedClock(NOW);
    const asked: Date[] = [];
    const store = {
      findOverdue: async (before: Date) => {
        asked.push(before);
        return ['d1', 'd2'];
      },
    } as unknown as PushDeliveryStore;
    const queue = new RecordingQueue();
    expect(await new PushOverdueSweeper(store, queue.asQueue(), clock).sweep()).toBe(2);
    expect(asked).toEqual([new Date(NOW - PUSH_OVERDUE_AFTER_MS)]);
    expect(queue.added).toEqual(['d1', 'd2']);
  });
});
