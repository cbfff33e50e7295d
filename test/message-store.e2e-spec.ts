import { conversationIdentity } from '@app/core';
import { InboundMessagesRepository, InsertOutcome, NewInboundMessage } from '@app/persistence';
import {
  pairAgent,
  PairedAgent,
  resetState,
  sendMessage,
  sql,
  uniqueCallbackUrl,
  userMessage,
} from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

/**
 * The store under concurrency: webhooks that arrive together are stored in batches (one statement, one lock per
 * account), and a batch must behave exactly like the messages stored one by one.
 */
describe('message store (e2e, real PostgreSQL)', () => {
  let relay: RunningRelay;
  let store: InboundMessagesRepository;
  let alice: PairedAgent;
  let bob: PairedAgent;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay();
    store = relay.app.get(InboundMessagesRepository);
    alice = await pairAgent(relay.url, 'store-alice');
    bob = await pairAgent(relay.url, 'store-bob');
  });
  afterAll(() => relay.close());

  function message(userKey: string, text: string, callbackUrl: string | null = uniqueCallbackUrl()) {
    const payload = userMessage(userKey, text, callbackUrl);
    const identity = conversationIdentity(payload);
    const input: NewInboundMessage = {
      channel: 'kakao',
      conversationKey: identity.conversationKey,
      payload,
      normalized: { userId: identity.userId, text, channelId: identity.channelId },
      callbackUrl,
      replyDeadline: new Date(Date.now() + 60_000),
    };
    return input;
  }

  async function seqsOf(accountId: string): Promise<Array<{ seq: number; text: string }>> {
    return sql<{ seq: number; text: string }>(
      `SELECT seq::int AS seq, normalized->>'text' AS text FROM inbound_messages
        WHERE account_id = $1 ORDER BY seq`,
      [accountId],
    );
  }

  it('stores 300 concurrent messages of two accounts in batches, gap-free and in arrival order', async () => {
    const inputs = Array.from({ length: 300 }, (_, i) =>
      message(i % 3 === 0 ? 'store-bob' : 'store-alice', `burst ${i}`),
    );
    const outcomes = await Promise.all(inputs.map((m) => store.insertQueued(m)));
    expect(outcomes.every((o) => o.kind === 'created')).toBe(true);

    for (const [agent, keep] of [
      [alice, (i: number) => i % 3 !== 0],
      [bob, (i: number) => i % 3 === 0],
    ] as const) {
      const rows = await seqsOf(agent.accountId);
      const expected = inputs.map((m, i) => (keep(i) ? m.normalized.text : null)).filter((t) => t !== null);
      expect(rows.map((r) => r.text)).toEqual(expected);
      expect(rows.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
      const [{ last_seq }] = await sql<{ last_seq: number }>(
        'SELECT last_seq::int AS last_seq FROM accounts WHERE id = $1',
        [agent.accountId],
      );
      expect(last_seq).toBe(expected.length);
    }
    // Batches happened: rows of one transaction share their created_at (now() is the transaction's start).
    const [{ batches }] = await sql<{ batches: number }>(
      `SELECT count(DISTINCT created_at)::int AS batches FROM inbound_messages WHERE normalized->>'text' LIKE 'burst %'`,
    );
    expect(batches).toBeLessThan(150);
    // Each outcome is the row stored for that input.
    const created = outcomes.map((o) => (o.kind === 'created' ? o.message : null));
    const byId = await sql<{ id: string; text: string; seq: number }>(
      `SELECT id, normalized->>'text' AS text, seq::int AS seq FROM inbound_messages WHERE id = ANY($1::uuid[])`,
      [created.map((m) => m?.id)],
    );
    const rowOf = new Map(byId.map((r) => [r.id, r]));
    created.forEach((m, i) => {
      expect(rowOf.get(m!.id)).toEqual({ id: m!.id, text: inputs[i].normalized.text, seq: m!.seq });
    });
  });

  it('reports duplicates (in one batch and against stored rows), unpaired users and a refused row one by one', async () => {
    const before = (await seqsOf(alice.accountId)).length;
    const stored = message('store-alice', 'stored before');
    const first = await store.insertQueued(stored);
    expect(first.kind).toBe('created');

    const sharedUrl = uniqueCallbackUrl();
    // A text PostgreSQL refuses in jsonb (U+0000): only that message may fail.
    const refused = message('store-alice', 'refused \u0000 text');
    const inputs = [
      message('store-alice', 'filler 1'), // goes alone; the rest gather while it runs
      message('store-alice', 'shared a', sharedUrl),
      message('store-alice', 'shared b', sharedUrl),
      { ...message('store-alice', 'retry of stored'), callbackUrl: stored.callbackUrl },
      message('store-stranger', 'not paired'),
      refused,
      message('store-bob', 'bob in the same batch'),
      message('store-alice', 'filler 2'),
    ];
    const settled = await Promise.allSettled(inputs.map((m) => store.insertQueued(m)));
    const kinds = settled.map((s) =>
      s.status === 'fulfilled' ? (s.value as InsertOutcome).kind : 'rejected',
    );
    expect(kinds).toEqual([
      'created',
      'created',
      'duplicate',
      'duplicate',
      'unpaired',
      'rejected',
      'created',
      'created',
    ]);
    const firstId = first.kind === 'created' ? first.message.id : '';
    expect((settled[3] as PromiseFulfilledResult<InsertOutcome>).value).toEqual({
      kind: 'duplicate',
      existingId: firstId,
    });

    const rows = await seqsOf(alice.accountId);
    expect(rows.slice(before).map((r) => r.text)).toEqual([
      'stored before',
      'filler 1',
      'shared a',
      'filler 2',
    ]);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
  });

  it('fails only the poisoned message of a batch, whatever PostgreSQL says about it (54000 index row size)', async () => {
    const aliceBefore = (await seqsOf(alice.accountId)).length;
    const bobBefore = (await seqsOf(bob.accountId)).length;
    // 3,000 distinct-looking Hangul syllables: ~9 KB that do not compress, over the btree entry limit of
    // inbound_callback_url_uq (error 54000, not class 22/23). Handed to the repository directly: the webhook
    // refuses such a URL long before.
    const hangul = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0xac00 + ((i * 7919) % 11172)));
    const poisoned = message('store-alice', 'poisoned', `https://bot-api.kakao.com/${hangul.join('')}`);
    const batches: number[][] = [];
    const target = store as unknown as { store: (items: NewInboundMessage[]) => Promise<unknown> };
    const original = target.store.bind(store);
    const storeSpy = jest.spyOn(target, 'store').mockImplementation((items) => {
      batches.push(items.map((m) => (m === poisoned ? -1 : items.indexOf(m))));
      return original(items);
    });
    try {
      const others = Array.from({ length: 40 }, (_, i) => message('store-bob', `bob batch ${i}`));
      // The first goes alone; the poisoned one and the rest gather behind it into one batch.
      const inputs = [others[0], poisoned, ...others.slice(1)];
      const settled = await Promise.allSettled(inputs.map((m) => store.insertQueued(m)));
      expect(settled[1].status).toBe('rejected');
      expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: '54000' });
      const kinds = settled
        .filter((_, i) => i !== 1)
        .map((s) => (s.status === 'fulfilled' ? s.value.kind : 'rejected'));
      expect(kinds).toEqual(others.map(() => 'created'));
    } finally {
      storeSpy.mockRestore();
    }
    // The batch really formed: the poisoned message shared a statement with other accounts' messages.
    expect(batches.some((b) => b.includes(-1) && b.length > 1)).toBe(true);
    const bobRows = await seqsOf(bob.accountId);
    expect(bobRows.slice(bobBefore).map((r) => r.text)).toEqual(
      Array.from({ length: 40 }, (_, i) => `bob batch ${i}`),
    );
    expect(bobRows.map((r) => r.seq)).toEqual(bobRows.map((_, i) => i + 1));
    expect((await seqsOf(alice.accountId)).length).toBe(aliceBefore);
  });

  it('answers Kakao for 100 concurrent webhooks of one user with every message stored once, in order', async () => {
    const agent = await pairAgent(relay.url, 'store-carol');
    const payloads = Array.from({ length: 100 }, (_, i) => userMessage('store-carol', `carol ${i}`));
    const answers = await Promise.all(payloads.map((p) => sendMessage(relay.url, p)));
    expect(answers.every((a) => a.useCallback === true)).toBe(true);
    const rows = await seqsOf(agent.accountId);
    expect(rows.map((r) => r.seq)).toEqual(payloads.map((_, i) => i + 1));
    expect(new Set(rows.map((r) => r.text))).toEqual(new Set(payloads.map((p) => p.userRequest.utterance)));
  });

  it('records deliveries as a per-account mark that only moves forward and ignores unknown accounts', async () => {
    const markOf = async (accountId: string) =>
      (
        await sql<{ seq: number }>(
          'SELECT delivered_seq::int AS seq FROM account_deliveries WHERE account_id = $1',
          [accountId],
        )
      )[0]?.seq;
    const unknown = '00000000-0000-7000-8000-000000000000';
    await store.markDelivered(
      new Map([
        [bob.accountId, 5],
        [unknown, 9],
      ]),
    );
    expect(await markOf(bob.accountId)).toBe(5);
    expect(await markOf(unknown)).toBeUndefined();
    await store.markDelivered(new Map([[bob.accountId, 3]]));
    expect(await markOf(bob.accountId)).toBe(5);
    await store.markDelivered(new Map([[bob.accountId, 7]]));
    expect(await markOf(bob.accountId)).toBe(7);
    // The read model derives "delivered" from the mark.
    const states = await sql<{ seq: number; status: string }>(
      `SELECT seq::int AS seq, status FROM inbound_message_states WHERE account_id = $1 AND seq IN (7, 8) ORDER BY seq`,
      [bob.accountId],
    );
    expect(states).toEqual([
      { seq: 7, status: 'delivered' },
      { seq: 8, status: 'queued' },
    ]);
  });
});
