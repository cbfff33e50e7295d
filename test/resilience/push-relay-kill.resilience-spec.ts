import request from 'supertest';
import {
  pairAgent,
  PushReceiver,
  resetState,
  sendMessage,
  sql,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  userMessage,
  waitUntil,
} from '@app/testing';
import { RelayProcess, spawnRelay } from '../support/relay-process';

/**
 * Push delivery across a relay killed with SIGKILL while deliveries are in flight (server-mode §2): no message is
 * lost, and no event gets two different webhook-ids. Standard Webhooks is at-least-once over the network — a
 * request the receiver took but whose 2xx the dead relay never recorded is sent again with the SAME webhook-id,
 * and the receiver dedupes by it — so "duplicated" here counts webhook-ids a receiver acknowledged (2xx) more
 * than once, and ids that belong to no message. In this test the receiver answers nothing before the kill, so every
 * message must be acknowledged exactly once.
 */
describe('push delivery across a relay kill (resilience)', () => {
  const MESSAGES = 20;
  let hook: PushReceiver;
  const relays: RelayProcess[] = [];

  beforeAll(async () => {
    await resetState();
    hook = await PushReceiver.start();
  });
  afterAll(async () => {
    for (const r of relays) await r.kill('SIGKILL');
    await hook.close();
  });

  it('loses no message and gives no message two webhook-ids', async () => {
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-pushkill`,
      PUSH_ALLOW_HTTP: 'true',
      PUSH_ALLOWED_PRIVATE_HOSTS: '127.0.0.1',
      PUSH_TIMEOUT_MS: '5000',
      PUSH_RETRY_SCALE: '0.001',
    };
    const a = await spawnRelay(env);
    relays.push(a);
    const agent = await pairAgent(a.url, 'push-kill-user');
    const put = await request(a.url)
      .put('/v1/push-endpoint')
      .set('Authorization', `Bearer ${agent.token}`)
      .send({ url: `${hook.url}/hook` })
      .expect(200);
    hook.secrets = [put.body.secret as string];
    hook.behave({ kind: 'hang' });
    for (let i = 0; i < MESSAGES; i++) await sendMessage(a.url, userMessage(agent.userKey, `kill-${i}`));
    await hook.waitForCount(1);
    await a.kill('SIGKILL');
    const ids = (
      await sql<{ id: string }>(`SELECT id FROM inbound_messages WHERE account_id = $1 ORDER BY seq`, [
        agent.accountId,
      ])
    ).map((r) => r.id);
    expect(ids).toHaveLength(MESSAGES);

    hook.behave({ kind: 'answer', status: 200 });
    const b = await spawnRelay(env);
    relays.push(b);
    const acknowledged = () => hook.received.filter((r) => r.status === 200);
    await waitUntil(() => new Set(acknowledged().map((r) => r.webhookId)).size === MESSAGES, 60000, 100);
    await waitUntil(async () => {
      const rows = await sql<{ n: string }>(
        `SELECT count(*) AS n FROM push_deliveries WHERE account_id = $1 AND status = 'delivered'`,
        [agent.accountId],
      );
      return Number(rows[0].n) === MESSAGES;
    }, 15000);
    // Let any stray retry arrive before counting.
    await new Promise((r) => setTimeout(r, 1000));

    expect(hook.received.every((r) => r.verified[0])).toBe(true);
    expect(new Set(hook.received.map((r) => r.webhookId))).toEqual(new Set(ids));
    const perId = new Map<string, number>();
    for (const r of acknowledged()) perId.set(r.webhookId, (perId.get(r.webhookId) ?? 0) + 1);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    const rows = await sql<{ n: string }>(`SELECT count(*) AS n FROM push_deliveries WHERE account_id = $1`, [
      agent.accountId,
    ]);
    expect(Number(rows[0].n)).toBe(MESSAGES);
  }, 120000);
});
