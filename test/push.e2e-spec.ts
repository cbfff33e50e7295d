import request from 'supertest';
import {
  createSession,
  FakeKakao,
  KAKAO_FAIL,
  pairAgent,
  PairedAgent,
  postReply,
  PushReceiver,
  resetState,
  sendMessage,
  sendPair,
  sql,
  TEST_REDIS_PREFIX,
  TEST_ADMIN_TOKEN,
  textReply,
  userMessage,
  waitUntil,
} from '@app/testing';
import { PushEndpointStore } from '@app/core';
import { RunningRelay, startRelay } from './support/test-app';

/**
 * Push delivery (server-mode §2) to local receivers that verify EVERY request with the npm `standardwebhooks`
 * library (`PushReceiver`: `new Webhook(secret).verify(body, headers)`), never with the relay's code.
 */
const PUSH_ENV = {
  PUSH_ALLOW_HTTP: 'true',
  PUSH_ALLOWED_PRIVATE_HOSTS: '127.0.0.1',
  PUSH_TIMEOUT_MS: '400',
  // 5 s → 5 ms … 1 h → 3.6 s: the whole schedule in about 6 s.
  PUSH_RETRY_SCALE: '0.001',
  KAKAO_CALLBACK_ALLOW_HTTP: 'true',
  KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
  REPLY_COALESCE_MS: '100',
};

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  last_http_status: number | null;
  last_error: string | null;
  reply_error: string | null;
  webhook_id: string;
}

async function deliveriesOf(accountId: string): Promise<DeliveryRow[]> {
  return sql<DeliveryRow>(
    `SELECT id, status, attempts, last_http_status, last_error, reply_error, webhook_id
       FROM push_deliveries WHERE account_id = $1 ORDER BY created_at, id`,
    [accountId],
  );
}

async function waitForDelivery(accountId: string, status: string, timeoutMs = 15000): Promise<DeliveryRow> {
  let last: DeliveryRow[] = [];
  try {
    await waitUntil(async () => {
      last = await deliveriesOf(accountId);
      return last.some((d) => d.status === status);
    }, timeoutMs);
  } catch {
    throw new Error(`no ${status} delivery: ${JSON.stringify(last)}`);
  }
  return last.find((d) => d.status === status) as DeliveryRow;
}

describe('push delivery (e2e)', () => {
  let relay: RunningRelay;
  let kakao: FakeKakao;
  const receivers: PushReceiver[] = [];
  let users = 0;

  const admin = () => ({ Authorization: `Bearer ${TEST_ADMIN_TOKEN}` });

  async function receiver(): Promise<PushReceiver> {
    const r = await PushReceiver.start();
    receivers.push(r);
    return r;
  }

  /** A paired agent whose endpoint is `url`; the receiver learns the secret. */
  async function agentWithEndpoint(
    target: PushReceiver | string,
    events?: string[],
  ): Promise<{ agent: PairedAgent; secret: string }> {
    const agent = await pairAgent(relay.url, `push-user-${++users}`);
    const url = typeof target === 'string' ? target : `${target.url}/hook`;
    const res = await request(relay.url)
      .put('/v1/push-endpoint')
      .set('Authorization', `Bearer ${agent.token}`)
      .send(events ? { url, events } : { url })
      .expect(200);
    expect(res.body.secret).toMatch(/^whsec_/);
    if (typeof target !== 'string') target.secrets = [res.body.secret];
    return { agent, secret: res.body.secret as string };
  }

  async function message(
    agent: PairedAgent,
    text: string,
    callbackUrl: string | null = null,
  ): Promise<string> {
    await sendMessage(relay.url, userMessage(agent.userKey, text, callbackUrl ?? kakao.callbackUrl()));
    const [row] = await sql<{ id: string }>(
      `SELECT id FROM inbound_messages WHERE account_id = $1 ORDER BY seq DESC LIMIT 1`,
      [agent.accountId],
    );
    return row.id;
  }

  beforeAll(async () => {
    await resetState();
    kakao = await FakeKakao.start();
    relay = await startRelay(PUSH_ENV);
  });
  afterAll(async () => {
    await relay.close();
    await kakao.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('pushes a message signed per Standard Webhooks, verified by the standardwebhooks library', async () => {
    const hook = await receiver();
    const { agent } = await agentWithEndpoint(hook);
    const id = await message(agent, 'hello push');
    const [got] = await hook.waitForCount(1);
    expect(got.verified).toEqual([true]);
    expect(got.webhookId).toBe(id);
    expect(Math.abs(Number(got.timestamp) - Date.now() / 1000)).toBeLessThan(10);
    expect(got.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(got.body.type).toBe('message.received');
    expect(got.body.seq).toBe(1);
    expect(Number.isNaN(Date.parse(got.body.timestamp))).toBe(false);
    expect(got.body.data).toMatchObject({ id, channel: 'kakao', normalized: { text: 'hello push' } });
    expect(Object.keys(got.body.data)).toEqual([
      'id',
      'conversationKey',
      'channel',
      'kakaoPayload',
      'normalized',
      'createdAt',
      'payload',
    ]);
    const row = await waitForDelivery(agent.accountId, 'delivered');
    expect(row).toMatchObject({ attempts: 1, last_http_status: 204, webhook_id: id });
    // A message's delivery keeps no copy of the body: it is rendered from the message when needed again.
    expect(await sql(`SELECT body FROM push_deliveries WHERE id = $1`, [row.id])).toEqual([{ body: null }]);
  });

  it('makes the delivery of a stored message the live path missed (the message sweep)', async () => {
    const hook = await receiver();
    const agent = await pairAgent(relay.url, `push-user-${++users}`);
    // An endpoint this relay's routing cache has not heard of (as if the relay died before the tap ran).
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    hook.secrets = [secret];
    await sql(
      `INSERT INTO push_endpoints (id, account_id, url, events, secret, message_cursor)
       VALUES ('00000000-0000-7000-8000-00000000e001', $1, $2, '{message}', $3, 0)`,
      [agent.accountId, `${hook.url}/hook`, secret],
    );
    const id = await message(agent, 'missed by the live path');
    expect(await deliveriesOf(agent.accountId)).toHaveLength(0);
    const got = await hook.waitFor((r) => r.webhookId === id, 15000);
    expect(got.verified).toEqual([true]);
    expect(got.body).toMatchObject({ type: 'message.received', seq: 1 });
    await waitUntil(async () => {
      const [row] = await sql<{ message_cursor: string }>(
        `SELECT message_cursor FROM push_endpoints WHERE account_id = $1`,
        [agent.accountId],
      );
      return Number(row.message_cursor) === 1;
    });
    expect(await deliveriesOf(agent.accountId)).toHaveLength(1);
    // Stored pending without its body; the worker's attempt rendered it from the message.
    expect(await sql(`SELECT body FROM push_deliveries WHERE webhook_id = $1`, [id])).toEqual([
      { body: null },
    ]);
    expect(got.body.data).toMatchObject({ id, normalized: { text: 'missed by the live path' } });
  });

  it("the message sweep's window ends before the first message the live path may still be attempting", async () => {
    const agent = await pairAgent(relay.url, `push-user-${++users}`);
    for (let i = 1; i <= 4; i++) await message(agent, `window ${i}`);
    // Messages 1, 2 and 4 are settled; 3 is young (its live attempt may be running): the window stops at 2.
    await sql(
      `UPDATE inbound_messages SET created_at = now() - CASE seq WHEN 3 THEN interval '1 second'
                                                                   ELSE interval '1 minute' END
        WHERE account_id = $1`,
      [agent.accountId],
    );
    const store = relay.app.get(PushEndpointStore);
    const settledBefore = new Date(Date.now() - 20_000);
    expect(await store.settledSeqAfter(agent.accountId, 0, settledBefore, 1000)).toBe(2);
    expect(await store.settledSeqAfter(agent.accountId, 0, settledBefore, 1)).toBe(1);
    expect(await store.settledSeqAfter(agent.accountId, 2, settledBefore, 1000)).toBe(2);
    expect(await store.settledSeqAfter(agent.accountId, 3, settledBefore, 1000)).toBe(4);
    expect(await store.settledSeqAfter(agent.accountId, 4, settledBefore, 1000)).toBe(4);
  });

  it('answers the endpoint without its secret, and a PUT of an existing one keeps the secret', async () => {
    const hook = await receiver();
    const { agent, secret } = await agentWithEndpoint(hook);
    const auth = { Authorization: `Bearer ${agent.token}` };
    const got = await request(relay.url).get('/v1/push-endpoint').set(auth).expect(200);
    expect(got.body).toMatchObject({ url: `${hook.url}/hook`, enabled: true });
    expect(got.body.events).toEqual(['message', 'pairing_complete', 'pairing_expired', 'error']);
    expect(got.body.secret).toBeUndefined();
    const changed = await request(relay.url)
      .put('/v1/push-endpoint')
      .set(auth)
      .send({ url: `${hook.url}/other`, events: ['error'] })
      .expect(200);
    expect(changed.body).toMatchObject({ url: `${hook.url}/other`, events: ['error'], enabled: true });
    expect(changed.body.secret).toBeUndefined();
    await message(agent, 'filtered out');
    await request(relay.url).delete('/v1/push-endpoint').set(auth).expect(204);
    await request(relay.url).get('/v1/push-endpoint').set(auth).expect(404);
    await request(relay.url).delete('/v1/push-endpoint').set(auth).expect(404);
    expect(hook.received).toHaveLength(0);
    expect(secret).toMatch(/^whsec_/);
  });

  it('refuses bad URLs at PUT, unauthenticated and unpaired callers', async () => {
    const agent = await pairAgent(relay.url, `push-user-${++users}`);
    const auth = { Authorization: `Bearer ${agent.token}` };
    for (const url of ['ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1/x', 'http://10.0.0.7/x', 'not a url']) {
      const res = await request(relay.url).put('/v1/push-endpoint').set(auth).send({ url }).expect(400);
      expect(res.body.code).toBe('PUSH_URL_REFUSED');
    }
    const bad = await request(relay.url)
      .put('/v1/push-endpoint')
      .set(auth)
      .send({ url: 'http://127.0.0.1:1/x', events: ['nope'] })
      .expect(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    await request(relay.url).put('/v1/push-endpoint').send({ url: 'http://127.0.0.1/x' }).expect(401);
    const pending = await createSession(relay.url);
    const unpaired = await request(relay.url)
      .put('/v1/push-endpoint')
      .set('Authorization', `Bearer ${pending.sessionToken}`)
      .send({ url: 'http://127.0.0.1/x' })
      .expect(401);
    expect(unpaired.body.code).toBe('SESSION_NOT_PAIRED');
  });

  it('refuses at send a host that resolves to a private address not in PUSH_ALLOWED_PRIVATE_HOSTS', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    const { agent } = await agentWithEndpoint(`http://localhost:${port}/hook`);
    await message(agent, 'to localhost');
    await waitUntil(async () => (await deliveriesOf(agent.accountId))[0]?.attempts >= 2);
    const [row] = await deliveriesOf(agent.accountId);
    expect(row.last_error).toMatch(/push host localhost resolves to a non-public address/);
    expect(row.last_http_status).toBeNull();
    expect(hook.received).toHaveLength(0);
  });

  it('pushes pairing.completed, pairing.expired and reply.failed with the SSE data', async () => {
    const hook = await receiver();
    const { agent } = await agentWithEndpoint(hook, ['pairing_complete', 'pairing_expired', 'error']);
    // A second user for the same account: pairing.completed.
    const session = await request(relay.url)
      .post('/admin/api/sessions')
      .set(admin())
      .send({ accountId: agent.accountId })
      .expect(201);
    await sendPair(relay.url, session.body.pairingCode, `push-user-${++users}`);
    const completed = await hook.waitFor((r) => r.body.type === 'pairing.completed');
    expect(completed.verified).toEqual([true]);
    expect(completed.webhookId).toMatch(/^evt_/);
    expect(completed.body.data).toMatchObject({ accountId: agent.accountId });
    expect(completed.body.seq).toBeUndefined();
    // A reply Kakao refuses: reply.failed (the stream's `error` event).
    const id = await message(agent, 'will fail', kakao.callbackUrl({ kind: 'answer', body: KAKAO_FAIL }));
    await postReply(relay.url, agent.token, { messageId: id, response: textReply('nope') }).expect(200);
    const failed = await hook.waitFor((r) => r.body.type === 'reply.failed');
    expect(failed.verified).toEqual([true]);
    expect(failed.body.data).toMatchObject({ code: 'CALLBACK_FAILED', messageId: id });
    // The operator deletes every conversation: pairing.expired (unpaired).
    const conversations = await sql<{ id: string }>(`SELECT id FROM conversations WHERE account_id = $1`, [
      agent.accountId,
    ]);
    for (const c of conversations) {
      await request(relay.url).delete(`/admin/api/conversations/${c.id}`).set(admin()).expect(204);
    }
    const expired = await hook.waitFor((r) => r.body.type === 'pairing.expired');
    expect(expired.verified).toEqual([true]);
    expect(expired.body.data).toEqual({ reason: 'unpaired' });
    // The filter left the message out.
    expect(hook.received.filter((r) => r.body.type === 'message.received')).toHaveLength(0);
  });

  it('retries a 500 with the same webhook-id and counts the second attempt delivered', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'answer', status: 500 }, { kind: 'answer', status: 200 });
    const { agent } = await agentWithEndpoint(hook);
    const id = await message(agent, 'flaky');
    const [first, second] = await hook.waitForCount(2);
    expect([first.webhookId, second.webhookId]).toEqual([id, id]);
    expect([first.verified, second.verified]).toEqual([[true], [true]]);
    const row = await waitForDelivery(agent.accountId, 'delivered');
    expect(row.attempts).toBe(2);
    // The retry's body was rendered from the stored message (the row has none): the same event, timestamp and
    // all, as the first attempt made from memory.
    expect(await sql(`SELECT body FROM push_deliveries WHERE id = $1`, [row.id])).toEqual([{ body: null }]);
    expect(second.body).toEqual(first.body);
    expect(second.body).toMatchObject({
      type: 'message.received',
      data: { id, normalized: { text: 'flaky' } },
    });
  });

  it('does not wait past the timeout, and retries', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'hang' }, { kind: 'answer', status: 202 });
    const { agent } = await agentWithEndpoint(hook);
    await message(agent, 'slow');
    const row = await waitForDelivery(agent.accountId, 'delivered');
    expect(row.attempts).toBe(2);
    expect(hook.received).toHaveLength(2);
    const log = await request(relay.url)
      .get(`/admin/api/push-deliveries?accountId=${agent.accountId}`)
      .set(admin())
      .expect(200);
    expect(log.body.items[0]).toMatchObject({ status: 'delivered', attempts: 2, lastHttpStatus: 202 });
  });

  it('honours Retry-After on 429', async () => {
    const hook = await receiver();
    hook.behave(
      { kind: 'answer', status: 429, headers: { 'Retry-After': '1' } },
      { kind: 'answer', status: 200 },
    );
    const { agent } = await agentWithEndpoint(hook);
    await message(agent, 'throttled');
    const [first, second] = await hook.waitForCount(2, 10000);
    // The schedule alone (scaled) would retry at once; Retry-After: 1 holds it a second.
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect((await waitForDelivery(agent.accountId, 'delivered')).attempts).toBe(2);
  });

  it('does not follow a redirect: it is retried until the schedule is used up, then failed', async () => {
    const hook = await receiver();
    const target = await receiver();
    hook.behave({ kind: 'redirect', location: `${target.url}/elsewhere` });
    const { agent } = await agentWithEndpoint(hook);
    await message(agent, 'redirected');
    const row = await waitForDelivery(agent.accountId, 'failed', 20000);
    expect(row).toMatchObject({ attempts: 8, last_http_status: 302 });
    expect(row.last_error).toMatch(/redirect \(302\) not followed; gave up after 8 attempts/);
    expect(hook.received).toHaveLength(8);
    expect(new Set(hook.received.map((r) => r.webhookId)).size).toBe(1);
    expect(hook.received.every((r) => r.verified[0])).toBe(true);
    expect(target.received).toHaveLength(0);
    // The operator's redeliver: a new attempt, same webhook-id.
    hook.behave({ kind: 'answer', status: 200 });
    const failed = await request(relay.url)
      .get(`/admin/api/push-deliveries?accountId=${agent.accountId}&status=failed`)
      .set(admin())
      .expect(200);
    expect(failed.body.items).toHaveLength(1);
    const failing = await request(relay.url)
      .get('/admin/api/push-endpoints/failing')
      .set(admin())
      .expect(200);
    expect(failing.body.map((e: { accountId: string }) => e.accountId)).toContain(agent.accountId);
    await request(relay.url)
      .post(`/admin/api/push-deliveries/${failed.body.items[0].id}/redeliver`)
      .set(admin())
      .expect(200);
    const again = await hook.waitForCount(9);
    expect(again[8].webhookId).toBe(row.webhook_id);
    expect(again[8].verified).toEqual([true]);
    expect(again[8].body).toEqual(again[0].body);
    expect((await waitForDelivery(agent.accountId, 'delivered')).attempts).toBe(9);
  });

  it('disables the endpoint on 410 and a PUT enables it again', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'answer', status: 410 });
    const { agent } = await agentWithEndpoint(hook);
    await message(agent, 'gone');
    const row = await waitForDelivery(agent.accountId, 'failed');
    expect(row).toMatchObject({ attempts: 1, last_http_status: 410 });
    const auth = { Authorization: `Bearer ${agent.token}` };
    const got = await request(relay.url).get('/v1/push-endpoint').set(auth).expect(200);
    expect(got.body.enabled).toBe(false);
    expect(got.body.disabledReason).toMatch(/410/);
    await message(agent, 'while disabled');
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.received).toHaveLength(1);
    hook.behave({ kind: 'answer', status: 200 });
    const put = await request(relay.url)
      .put('/v1/push-endpoint')
      .set(auth)
      .send({ url: `${hook.url}/hook` })
      .expect(200);
    expect(put.body.enabled).toBe(true);
    const id = await message(agent, 'enabled again');
    const got2 = await hook.waitFor((r) => r.webhookId === id);
    expect(got2.verified).toEqual([true]);
  });

  it('delivers what was pending once the receiver comes back', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'answer', status: 503 });
    const { agent } = await agentWithEndpoint(hook);
    const ids = [await message(agent, 'one'), await message(agent, 'two'), await message(agent, 'three')];
    await waitUntil(async () => (await deliveriesOf(agent.accountId)).every((d) => d.attempts >= 3));
    hook.behave({ kind: 'answer', status: 200 });
    await waitUntil(async () => (await deliveriesOf(agent.accountId)).every((d) => d.status === 'delivered'));
    const delivered = hook.received.filter((r) => r.verified[0]);
    expect(delivered).toHaveLength(hook.received.length);
    expect(new Set(hook.received.map((r) => r.webhookId))).toEqual(new Set(ids));
    const seqs = new Map(hook.received.map((r) => [r.webhookId, r.body.seq]));
    expect(ids.map((id) => seqs.get(id))).toEqual([1, 2, 3]);
  });

  it('signs with both secrets for the rotation window', async () => {
    const hook = await receiver();
    const { agent, secret: old } = await agentWithEndpoint(hook);
    const rotated = await request(relay.url)
      .post('/v1/push-endpoint/rotate-secret')
      .set('Authorization', `Bearer ${agent.token}`)
      .expect(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(Date.parse(rotated.body.previousSecretValidUntil) - Date.now()).toBeGreaterThan(
      23.9 * 3600 * 1000,
    );
    hook.secrets = [old, fresh];
    await message(agent, 'rotated');
    const [got] = await hook.waitForCount(1);
    expect(got.signature.split(' ')).toHaveLength(2);
    expect(got.verified).toEqual([true, true]);
    // After the window only the new secret signs (an endpoint read is kept for up to 1 s by each process).
    await sql(
      `UPDATE push_endpoints SET previous_secret_until = now() - interval '1 second' WHERE account_id = $1`,
      [agent.accountId],
    );
    await new Promise((r) => setTimeout(r, 1100));
    await message(agent, 'after the window');
    const [, later] = await hook.waitForCount(2);
    expect(later.signature.split(' ')).toHaveLength(1);
    expect(later.verified).toEqual([false, true]);
  });

  it('takes {"response": …} in the answer as the agent reply (sync reply)', async () => {
    const hook = await receiver();
    hook.behave({ kind: 'answer', status: 200, body: { response: textReply('pushed answer') } });
    const { agent } = await agentWithEndpoint(hook);
    const callback = kakao.callbackUrl();
    const id = await message(agent, 'answer me', callback);
    const [sent] = await kakao.waitForRequests(callback, 1);
    expect(sent.body).toEqual(textReply('pushed answer'));
    const row = await waitForDelivery(agent.accountId, 'delivered');
    expect(row.reply_error).toBeNull();
    // A second answer to the same message goes through the reply path's rules like any late reply: held
    // (LATE_REPLIES=hold, the default; server-mode §4), not an error, and not sent a second time by push.
    const [delivery] = await deliveriesOf(agent.accountId);
    await request(relay.url)
      .post(`/admin/api/push-deliveries/${delivery.id}/redeliver`)
      .set(admin())
      .expect(200);
    await waitUntil(async () => (await deliveriesOf(agent.accountId))[0].attempts === 2);
    const [after] = await deliveriesOf(agent.accountId);
    expect(after.status).toBe('delivered');
    expect(after.reply_error).toBeNull();
    const held = await sql<{ status: string }>(
      `SELECT status FROM held_answers WHERE inbound_message_id = $1`,
      [id],
    );
    expect(held).toEqual([{ status: 'held' }]);
    expect(hook.received.every((r) => r.webhookId === id && r.verified[0])).toBe(true);
  });

  it('a sync reply the reply path refuses is recorded on the delivery, not retried (LATE_REPLIES=reject)', async () => {
    // Its own Redis prefix: its own queues, so the redelivery is made by this relay's worker, not the other's.
    const strict = await startRelay({
      ...PUSH_ENV,
      LATE_REPLIES: 'reject',
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-strict`,
    });
    try {
      const hook = await receiver();
      hook.behave({ kind: 'answer', status: 200, body: { response: textReply('first') } });
      const { agent } = await agentWithEndpoint(hook);
      const callback = kakao.callbackUrl();
      await message(agent, 'answer me', callback);
      await kakao.waitForRequests(callback, 1);
      await waitForDelivery(agent.accountId, 'delivered');
      const [delivery] = await deliveriesOf(agent.accountId);
      await request(strict.url)
        .post(`/admin/api/push-deliveries/${delivery.id}/redeliver`)
        .set(admin())
        .expect(200);
      await waitUntil(async () => (await deliveriesOf(agent.accountId))[0].attempts === 2);
      const [after] = await deliveriesOf(agent.accountId);
      expect(after.status).toBe('delivered');
      expect(after.reply_error).toMatch(/ALREADY_REPLIED|CALLBACK_EXPIRED/);
    } finally {
      await strict.close();
    }
  });

  it('offers the same endpoint routes per account in the admin API', async () => {
    const hook = await receiver();
    const agent = await pairAgent(relay.url, `push-user-${++users}`);
    const base = `/admin/api/accounts/${agent.accountId}/push-endpoint`;
    await request(relay.url).get(base).set(admin()).expect(404);
    const put = await request(relay.url)
      .put(base)
      .set(admin())
      .send({ url: `${hook.url}/x` })
      .expect(200);
    hook.secrets = [put.body.secret];
    expect(put.body.secret).toMatch(/^whsec_/);
    expect((await request(relay.url).get(base).set(admin()).expect(200)).body.secret).toBeUndefined();
    const rotated = await request(relay.url).post(`${base}/rotate-secret`).set(admin()).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    await request(relay.url)
      .put('/admin/api/accounts/00000000-0000-7000-8000-000000000000/push-endpoint')
      .set(admin())
      .send({ url: `${hook.url}/x` })
      .expect(404);
    await request(relay.url).delete(base).set(admin()).expect(204);
    await request(relay.url).get('/admin/api/push-deliveries?status=bogus').set(admin()).expect(400);
    await request(relay.url)
      .post('/admin/api/push-deliveries/00000000-0000-7000-8000-000000000000/redeliver')
      .set(admin())
      .expect(404);
  });

  it("deleting an endpoint or an account deletes its deliveries (the endpoint's key cascades)", async () => {
    const hook = await receiver();
    const first = await agentWithEndpoint(hook);
    const second = await agentWithEndpoint(hook);
    hook.secrets = [first.secret, second.secret];
    await message(first.agent, 'to be deleted with the endpoint');
    await message(second.agent, 'to be deleted with the account');
    await waitForDelivery(first.agent.accountId, 'delivered');
    await waitForDelivery(second.agent.accountId, 'delivered');

    await request(relay.url)
      .delete('/v1/push-endpoint')
      .set('Authorization', `Bearer ${first.agent.token}`)
      .expect(204);
    expect(await deliveriesOf(first.agent.accountId)).toEqual([]);

    await request(relay.url).delete(`/admin/api/accounts/${second.agent.accountId}`).set(admin()).expect(204);
    expect(await deliveriesOf(second.agent.accountId)).toEqual([]);
  });
});
