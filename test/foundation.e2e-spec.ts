import { Client } from 'pg';
import { MIGRATIONS } from '@app/persistence';
import request from 'supertest';
import {
  pairAgent,
  sendMessage,
  TEST_DATABASE_URL,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  userMessage,
  expectErrorResponse,
} from '@app/testing';
import { startRelay } from './support/test-app';
import { freePort, spawnTs, startRedisServer, waitForStatus } from './support/processes';

const RELAY_MAIN = 'apps/relay/src/main.ts';

function databaseUrl(name: string): string {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

describe('foundation (separate processes)', () => {
  jest.setTimeout(60000);

  it('refuses to start with PORT=abc and a malformed DATABASE_URL, naming both variables', async () => {
    const child = spawnTs(RELAY_MAIN, { PORT: 'abc', DATABASE_URL: 'postgres//nope', LOG_LEVEL: 'silent' });
    const code = await child.exited;
    expect(code).not.toBe(0);
    expect(child.output()).toContain('PORT');
    expect(child.output()).toContain('DATABASE_URL');
  });

  it('two relays started together against an empty database both come up (no migration race)', async () => {
    const dbName = `kakao_relay_test_race_${process.pid}`;
    await dropDatabase(dbName);
    const ports = [await freePort(), await freePort()];
    const children = ports.map((port) =>
      spawnTs(RELAY_MAIN, {
        PORT: String(port),
        DATABASE_URL: databaseUrl(dbName),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: `${TEST_REDIS_PREFIX}-race`,
        LOG_LEVEL: 'warn',
      }),
    );
    try {
      await Promise.all(
        ports.map((port) => waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, 45000)),
      );
      const client = new Client({ connectionString: databaseUrl(dbName) });
      await client.connect();
      const migrations = await client.query('SELECT name FROM migrations');
      await client.end();
      expect(migrations.rows.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${children.map((c) => c.output()).join('\n---\n')}`);
    } finally {
      await Promise.all(children.map((c) => c.kill()));
      await dropDatabase(dbName);
    }
  });

  it('migrates an empty database and serves with a pool of one connection (DATABASE_POOL_SIZE=1)', async () => {
    const dbName = `kakao_relay_test_pool1_${process.pid}`;
    await dropDatabase(dbName);
    const relay = await startRelay({ DATABASE_URL: databaseUrl(dbName), DATABASE_POOL_SIZE: '1' });
    try {
      await request(relay.url).get('/health/ready').expect(200);
      await pairAgent(relay.url, 'pool-of-one');
      const answers = await Promise.all(
        [1, 2, 3].map((i) => sendMessage(relay.url, userMessage('pool-of-one', `message ${i}`))),
      );
      expect(answers).toEqual([1, 2, 3].map(() => ({ version: '2.0', useCallback: true })));
      const client = new Client({ connectionString: databaseUrl(dbName) });
      await client.connect();
      const stored = await client.query('SELECT count(*)::int AS n FROM inbound_messages');
      const migrations = await client.query('SELECT name FROM migrations');
      await client.end();
      expect(stored.rows[0].n).toBe(3);
      expect(migrations.rows.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await relay.close();
      await dropDatabase(dbName);
    }
  });

  it('readiness turns 503 when Redis stops while liveness stays 200, and recovers', async () => {
    const redis = await startRedisServer();
    const port = await freePort();
    const child = spawnTs(RELAY_MAIN, {
      PORT: String(port),
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: `redis://127.0.0.1:${redis.port}/1`,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-ready`,
      LOG_LEVEL: 'silent',
    });
    const base = `http://127.0.0.1:${port}`;
    let restarted: { stop(): Promise<void> } | undefined;
    try {
      await waitForStatus(`${base}/health/ready`, 200, 30000);
      await redis.stop();
      await waitForStatus(`${base}/health/ready`, 503, 10000);
      const body = await expectErrorResponse(await fetch(`${base}/health/ready`), 503, 'NOT_READY', {
        details: 'required',
      });
      expect(body.details?.map((d) => d.field)).toEqual(expect.arrayContaining(['database', 'redis']));
      expect((await fetch(`${base}/health`)).status).toBe(200);
      restarted = await startRedisServer(redis.port);
      await waitForStatus(`${base}/health/ready`, 200, 15000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${child.output()}`);
    } finally {
      await child.kill();
      await restarted?.stop();
    }
  });

  it('exits promptly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawnTs(RELAY_MAIN, {
      PORT: String(port),
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `${TEST_REDIS_PREFIX}-term`,
      LOG_LEVEL: 'silent',
    });
    await waitForStatus(`http://127.0.0.1:${port}/health`, 200, 30000);
    const started = Date.now();
    const code = await child.kill('SIGTERM');
    expect(Date.now() - started).toBeLessThan(5000);
    // Nest closes the app, then re-raises the signal: a clean exit is code 0 or death by that SIGTERM.
    expect(code === 0 || child.proc.signalCode === 'SIGTERM').toBe(true);
    expect(child.output()).not.toMatch(/ERROR|unhandled/i);
  });
});

describe('separate relay and worker roles', () => {
  jest.setTimeout(60000);

  it('a relay without the worker role relies on a standalone worker for reply sends', async () => {
    const testing = await import('@app/testing');
    await testing.resetState();
    const kakao = await testing.FakeKakao.start();
    const callbacks = {
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      REPLY_COALESCE_MS: '100',
    };
    const workerPort = await freePort();
    const worker = spawnTs('apps/worker/src/main.ts', {
      WORKER_PORT: String(workerPort),
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: TEST_REDIS_PREFIX,
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: testing.TEST_ADMIN_TOKEN,
      ...callbacks,
    });
    const relay = await startRelay({ WORKER_IN_PROCESS: 'false', ...callbacks });
    try {
      await waitForStatus(`http://127.0.0.1:${workerPort}/health/ready`, 200, 30000);
      const agent = await testing.pairAgent(relay.url, 'roles-user');
      const stream = await testing.openStream(relay.url, agent.token);
      const callbackUrl = kakao.callbackUrl();
      await testing.sendMessage(relay.url, testing.userMessage('roles-user', 'via the worker', callbackUrl));
      const event = await stream.waitFor('message', 10000);
      const messageId = JSON.parse(event.data).id as string;
      await testing
        .postReply(relay.url, agent.token, { messageId, response: testing.textReply('sent by the worker') })
        .expect(200);
      const [received] = await kakao.waitForRequests(callbackUrl, 1, 10000);
      expect(received.body).toEqual(testing.textReply('sent by the worker'));
      stream.close();
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${worker.output()}`);
    } finally {
      await relay.close();
      await worker.kill();
      await kakao.close();
    }
  });
});
