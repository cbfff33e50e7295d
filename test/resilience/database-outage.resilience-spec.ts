import {
  TEST_DATABASE_URL,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  textOf,
  kakaoPayload,
  expectErrorResponse,
} from '@app/testing';
import type { SkillResponse } from '@app/core';
import { freePort, waitForStatus } from '../support/processes';
import { postWebhookRaw } from '../support/load';
import { RelayProcess, spawnRelay } from '../support/relay-process';
import { TcpProxy } from '../support/tcp-proxy';

describe('PostgreSQL unreachable for one instance', () => {
  jest.setTimeout(90000);
  let relay: RelayProcess | undefined;
  let proxy: TcpProxy | undefined;

  afterAll(async () => {
    await relay?.kill('SIGKILL');
    await proxy?.cut();
  });

  it('answers Kakao in time, reports 503, does not crash, and recovers by itself', async () => {
    // The instance's DATABASE_URL points at a port where nothing listens yet.
    const port = await freePort();
    const db = new URL(TEST_DATABASE_URL);
    proxy = new TcpProxy(port, Number(db.port || 5432));
    db.port = String(port);
    relay = await spawnRelay(
      { DATABASE_URL: db.toString(), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `${TEST_REDIS_PREFIX}-pgdown` },
      'live',
    );

    const ready = await fetch(`${relay.url}/health/ready`);
    const body = await expectErrorResponse(ready, 503, 'NOT_READY', { details: 'required' });
    expect(body.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'database', status: 'down' })]),
    );

    const answer = await postWebhookRaw(relay.url, 'pg-down-user', '안녕하세요');
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(5000);
    expect(textOf(answer.body as SkillResponse)).toContain('일시적으로');

    const created = await fetch(`${relay.url}/v1/sessions/create`, { method: 'POST' });
    await expectErrorResponse(created, 503, 'DATABASE_UNAVAILABLE', { retryAfter: 5 });
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);

    // The database comes back at that address: the instance heals without a restart.
    await proxy.open();
    await waitForStatus(`${relay.url}/health/ready`, 200, 30000);
    const session = await fetch(`${relay.url}/v1/sessions/create`, { method: 'POST' });
    expect(session.status).toBe(200);
    const payload = kakaoPayload({ utterance: '/help', userKey: 'pg-back-user' });
    const help = await fetch(`${relay.url}/kakao/webhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(textOf((await help.json()) as SkillResponse)).toContain('/pair');

    // And it survives the database going away again after it was connected.
    await proxy.cut();
    const again = await postWebhookRaw(relay.url, 'pg-down-user', 'still there?');
    expect(again.status).toBe(200);
    expect(again.ms).toBeLessThan(5000);
    expect(textOf(again.body as SkillResponse)).toContain('일시적으로');
    await waitForStatus(`${relay.url}/health/ready`, 503, 10000);
    await proxy.open();
    await waitForStatus(`${relay.url}/health/ready`, 200, 30000);
    expect(relay.proc.exitCode).toBeNull();
  });
});
