import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import request from 'supertest';
import { TunnelHub } from '@app/tunnels';
import {
  expectErrorBody,
  pairAgent,
  resetState,
  sql,
  TEST_ADMIN_TOKEN,
  TEST_REDIS_PREFIX,
  TEST_REDIS_URL,
  waitUntil,
} from '@app/testing';
import { startRedisServer } from './support/processes';
import { spawnRelay } from './support/relay-process';
import { RunningRelay, startRelay } from './support/test-app';
import { rawRequest, TunnelProgram } from './support/tunnel-program';

const ADMIN = `Bearer ${TEST_ADMIN_TOKEN}`;
const GITHUB_SECRET = 'It’s a Secret to Everybody';

interface Created {
  id: string;
  webhookUrl: string;
  token: string;
  mode: string;
}

async function createTunnel(relay: RunningRelay, token: string, body: object = {}): Promise<Created> {
  const res = await request(relay.url).post('/v1/tunnels').set('Authorization', `Bearer ${token}`).send(body);
  expect(res.status).toBe(201);
  return res.body as Created;
}

function githubSignature(body: Buffer): string {
  return `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
}

describe('webhook tunnels (websocket.md §2)', () => {
  let relay: RunningRelay;
  let agent: { token: string; accountId: string };
  const programs: TunnelProgram[] = [];
  const connect = async (...args: Parameters<typeof TunnelProgram.connect>) => {
    const program = await TunnelProgram.connect(...args);
    programs.push(program);
    return program;
  };

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ TUNNEL_RESPONSE_TIMEOUT_MS: '800', TUNNEL_MAX_BODY_BYTES: '65536' });
    agent = await pairAgent(relay.url, 'tunnel-user');
  });

  afterEach(() => {
    for (const p of programs.splice(0)) p.close();
  });

  afterAll(async () => {
    await relay?.close();
  });

  it('creates, lists and deletes tunnels with an account credential', async () => {
    await request(relay.url).post('/v1/tunnels').send({}).expect(401);
    await request(relay.url)
      .post('/v1/tunnels')
      .set('Authorization', `Bearer ${agent.token}`)
      .send({ mode: 'sometimes' })
      .expect(400);
    const created = await createTunnel(relay, agent.token, { name: 'ci', mode: 'durable' });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      webhookUrl: `${relay.url}/webhook/${created.id}`,
      token: expect.stringMatching(new RegExp(`^${created.id}\\.[0-9a-f]{64}$`)),
      mode: 'durable',
    });
    const [row] = await sql<{ token_hash: string }>(`SELECT token_hash FROM tunnels WHERE id = $1`, [
      created.id,
    ]);
    expect(row.token_hash).not.toContain(created.token.split('.')[1]);
    const list = await request(relay.url)
      .get('/v1/tunnels')
      .set('Authorization', `Bearer ${agent.token}`)
      .expect(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: created.id, name: 'ci', mode: 'durable', connected: false }),
    ]);
    const other = await pairAgent(relay.url, 'someone-else');
    const res = await request(relay.url)
      .delete(`/v1/tunnels/${created.id}`)
      .set('Authorization', `Bearer ${other.token}`);
    expectErrorBody(res, 404, 'TUNNEL_NOT_FOUND');
    await request(relay.url)
      .delete(`/v1/tunnels/${created.id}`)
      .set('Authorization', `Bearer ${agent.token}`)
      .expect(204);
    expectErrorBody(
      await request(relay.url).post(`/webhook/${created.id}`).send('x'),
      404,
      'TUNNEL_NOT_FOUND',
    );
  });

  it('forwards a GitHub-signed request with its bytes and headers unchanged; the program verifies it', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    let verified = false;
    const program = await connect(relay.url, tunnel.id, tunnel.token, (req) => {
      const body = Buffer.from(req.body, 'base64');
      const expected = Buffer.from(githubSignature(body));
      const got = Buffer.from(String(req.headers['x-hub-signature-256']));
      verified = expected.length === got.length && timingSafeEqual(expected, got);
      return {
        status: verified ? 201 : 401,
        headers: { 'content-type': 'text/plain', 'x-program': ['a', 'b'] },
        body: verified ? 'verified' : 'bad signature',
      };
    });
    expect(program.hello).toEqual({
      type: 'hello',
      tunnelId: tunnel.id,
      webhookUrl: tunnel.webhookUrl,
      mode: 'live',
    });
    // Spacing and key order a JSON parser would not keep.
    const body = Buffer.from('{"zen":  "Design for failure.",\n "hook_id":1,"a":"é"}');
    const res = await rawRequest(`${relay.url}/webhook/${tunnel.id}/github/events?x=1&y=%20`, 'POST', body, {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'ping',
      'X-Hub-Signature-256': githubSignature(body),
      Connection: 'keep-alive, x-hop',
      'X-Hop': 'dropped',
    });
    expect(verified).toBe(true);
    expect(res.status).toBe(201);
    expect(res.body.toString()).toBe('verified');
    expect(res.headers['x-program']).toBe('a, b');
    const [forwarded] = program.requests;
    expect(forwarded).toMatchObject({ type: 'request', method: 'POST', path: '/github/events?x=1&y=%20' });
    expect(Buffer.from(forwarded.body, 'base64').equals(body)).toBe(true);
    expect(forwarded.headers).toMatchObject({
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'content-length': String(body.length),
    });
    expect(forwarded.headers).not.toHaveProperty('connection');
    expect(forwarded.headers).not.toHaveProperty('x-hop');
  });

  it('passes binary bodies and every method through', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    const program = await connect(relay.url, tunnel.id, tunnel.token, (req) => ({
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.concat([Buffer.from(req.method), Buffer.from(req.body, 'base64')]),
    }));
    const binary = randomBytes(4096);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await rawRequest(`${relay.url}/webhook/${tunnel.id}`, method, binary, {
        'Content-Type': 'application/octet-stream',
      });
      expect(res.status).toBe(200);
      expect(res.body.equals(Buffer.concat([Buffer.from(method), binary]))).toBe(true);
    }
    const get = await request(relay.url).get(`/webhook/${tunnel.id}/status?q=1`);
    expect(get.status).toBe(200);
    expect(program.requests.at(-1)).toMatchObject({ method: 'GET', path: '/status?q=1', body: '' });
  });

  it('answers 503 TUNNEL_OFFLINE with Retry-After when no program is connected (live)', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    const res = await request(relay.url).post(`/webhook/${tunnel.id}`).send({ a: 1 });
    expectErrorBody(res, 503, 'TUNNEL_OFFLINE');
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('answers 504 TUNNEL_TIMEOUT when the program does not answer in time', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    await connect(relay.url, tunnel.id, tunnel.token, () => null);
    expectErrorBody(
      await request(relay.url).post(`/webhook/${tunnel.id}`).send({ a: 1 }),
      504,
      'TUNNEL_TIMEOUT',
    );
  });

  it('answers 502 TUNNEL_DISCONNECTED when the program goes away mid-request', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    const program = await connect(relay.url, tunnel.id, tunnel.token, () => {
      program.socket.close();
      return null;
    });
    expectErrorBody(
      await request(relay.url).post(`/webhook/${tunnel.id}`).send({ a: 1 }),
      502,
      'TUNNEL_DISCONNECTED',
    );
  });

  it('refuses a body over TUNNEL_MAX_BODY_BYTES with 413, declared or chunked', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    await connect(relay.url, tunnel.id, tunnel.token);
    const big = Buffer.alloc(65537, 1);
    expectErrorBody(
      await request(relay.url)
        .post(`/webhook/${tunnel.id}`)
        .set('Content-Type', 'application/octet-stream')
        .send(big),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('refuses a bad token on the upgrade with 401 and the error body, no socket', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    const other = await createTunnel(relay, agent.token);
    for (const token of ['nope', other.token]) {
      const err = (await TunnelProgram.connect(relay.url, tunnel.id, token).catch((e: unknown) => e)) as {
        status: number;
        body: string;
      };
      expect(err.status).toBe(401);
      expect(JSON.parse(err.body)).toMatchObject({ statusCode: 401, code: 'INVALID_TUNNEL_TOKEN' });
    }
  });

  it('a second connection replaces the first, which is closed with 4409', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    const first = await connect(relay.url, tunnel.id, tunnel.token, () => ({ status: 200, body: 'first' }));
    const second = await connect(relay.url, tunnel.id, tunnel.token, () => ({ status: 200, body: 'second' }));
    expect(await first.closed).toBe(4409);
    const res = await request(relay.url).post(`/webhook/${tunnel.id}`).send('x');
    expect(res.text).toBe('second');
    expect(second.closeCode).toBeNull();
  });

  it('logs every forwarded request without its body', async () => {
    const tunnel = await createTunnel(relay, agent.token);
    await connect(relay.url, tunnel.id, tunnel.token, () => ({ status: 204 }));
    await request(relay.url).put(`/webhook/${tunnel.id}/a?b=c`).send('12345').expect(204);
    await waitUntil(
      async () => (await sql(`SELECT 1 FROM tunnel_requests WHERE tunnel_id = $1`, [tunnel.id])).length === 1,
    );
    const [row] = await sql(
      `SELECT method, path, status, state, size_bytes, body, latency_ms FROM tunnel_requests WHERE tunnel_id = $1`,
      [tunnel.id],
    );
    expect(row).toMatchObject({
      method: 'PUT',
      path: '/a?b=c',
      status: 204,
      state: 'answered',
      size_bytes: 5,
      body: null,
    });
    const hub = relay.app.get(TunnelHub);
    expect(hub.connectedTunnels).toContain(tunnel.id);
  });
});

describe('webhook tunnels: durable mode, replicas, outages', () => {
  let a: RunningRelay;
  let b: RunningRelay;
  let agent: { token: string; accountId: string };
  const programs: TunnelProgram[] = [];
  const connect = async (...args: Parameters<typeof TunnelProgram.connect>) => {
    const program = await TunnelProgram.connect(...args);
    programs.push(program);
    return program;
  };
  const post = (relay: { url: string }, tunnelId: string, text: string) =>
    rawRequest(`${relay.url}/webhook/${tunnelId}/seq`, 'POST', Buffer.from(text), {
      'Content-Type': 'text/plain',
    });
  const bodies = (program: TunnelProgram) =>
    program.requests.map((r) => Buffer.from(r.body, 'base64').toString());

  beforeAll(async () => {
    await resetState();
    const env = { TUNNEL_RESPONSE_TIMEOUT_MS: '1500' };
    a = await startRelay(env);
    b = await startRelay(env);
    agent = await pairAgent(a.url, 'durable-user');
  });

  afterEach(() => {
    for (const p of programs.splice(0)) p.close();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('live: the socket on one replica, the webhook on the other (through Redis), and back', async () => {
    const tunnel = await createTunnel(a, agent.token);
    const program = await connect(a.url, tunnel.id, tunnel.token, (req) => ({
      status: 200,
      headers: { 'x-echo': req.path },
      body: Buffer.from(req.body, 'base64'),
    }));
    const res = await post(b, tunnel.id, 'across');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('across');
    expect(res.headers['x-echo']).toBe('/seq');
    expect(program.requests).toHaveLength(1);
    // A connection on B replaces the one on A (4409 across replicas); the webhook on A now reaches B.
    const second = await connect(b.url, tunnel.id, tunnel.token, () => ({ status: 202, body: 'on b' }));
    expect(await program.closed).toBe(4409);
    await waitUntil(async () => (await post(a, tunnel.id, 'x')).status === 202);
    expect(second.requests.length).toBeGreaterThan(0);
    second.close();
    await waitUntil(async () => (await post(a, tunnel.id, 'x')).status === 503);
  });

  it('durable: stored and answered 202 at once, then delivered in order after the program connects', async () => {
    const tunnel = await createTunnel(a, agent.token, { mode: 'durable' });
    for (const n of ['1', '2', '3']) {
      const res = await post(b, tunnel.id, n);
      expect(res.status).toBe(202);
      expect(JSON.parse(res.body.toString())).toEqual({ id: expect.any(String), status: 'queued' });
    }
    // The first answer fails (no answer: redelivered after the timeout), then all are answered.
    let first = true;
    const program = await connect(a.url, tunnel.id, tunnel.token, () => {
      if (first) {
        first = false;
        return null;
      }
      return { status: 200, body: 'done' };
    });
    await waitUntil(async () => {
      const rows = await sql(`SELECT 1 FROM tunnel_requests WHERE tunnel_id = $1 AND state = 'answered'`, [
        tunnel.id,
      ]);
      return rows.length === 3;
    });
    expect(bodies(program)).toEqual(['1', '1', '2', '3']);
    // Stored while connected: delivered at once, from either replica.
    await post(b, tunnel.id, '4');
    await post(a, tunnel.id, '5');
    await program.waitForRequests(6);
    expect(bodies(program).slice(4)).toEqual(['4', '5']);
  });

  it('durable: nothing is lost when the relay holding the socket is killed (kill -9)', async () => {
    const tunnel = await createTunnel(a, agent.token, { mode: 'durable' });
    const doomed = await spawnRelay({
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: TEST_REDIS_PREFIX,
      TUNNEL_RESPONSE_TIMEOUT_MS: '60000',
    });
    try {
      // The program takes the requests but never answers before the relay dies.
      const program = await connect(doomed.url, tunnel.id, tunnel.token, () => null);
      for (const n of ['a', 'b', 'c']) expect((await post(doomed, tunnel.id, n)).status).toBe(202);
      await program.waitForRequests(1);
      await doomed.kill('SIGKILL');
      await program.closed;
    } finally {
      await doomed.kill('SIGKILL');
    }
    const again = await connect(b.url, tunnel.id, tunnel.token, () => ({ status: 200 }));
    await again.waitForRequests(3);
    expect(bodies(again)).toEqual(['a', 'b', 'c']);
  }, 60_000);

  it('durable: nothing is lost while Redis restarts; requests on the other replica still arrive', async () => {
    const redis = await startRedisServer();
    const env = { REDIS_URL: `redis://127.0.0.1:${redis.port}/1`, TUNNEL_RESPONSE_TIMEOUT_MS: '1500' };
    const c = await startRelay(env);
    const d = await startRelay(env);
    let restarted: { stop(): Promise<void> } | null = null;
    try {
      const tunnel = await createTunnel(c, agent.token, { mode: 'durable' });
      const program = await connect(c.url, tunnel.id, tunnel.token, () => ({ status: 200 }));
      expect((await post(d, tunnel.id, 'before')).status).toBe(202);
      await program.waitForRequests(1);
      await redis.stop();
      for (const n of ['during-1', 'during-2']) expect((await post(d, tunnel.id, n)).status).toBe(202);
      await program.waitForRequests(3);
      restarted = await startRedisServer(redis.port);
      expect((await post(d, tunnel.id, 'after')).status).toBe(202);
      await program.waitForRequests(4);
      expect(bodies(program)).toEqual(['before', 'during-1', 'during-2', 'after']);
    } finally {
      await c.close();
      await d.close();
      await (restarted ?? redis).stop();
    }
  }, 60_000);
});
