import { request as httpRequest } from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import request from 'supertest';
import { CleanupService } from '@app/jobs';
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
    relay = await startRelay({
      TUNNEL_RESPONSE_TIMEOUT_MS: '800',
      TUNNEL_MAX_BODY_BYTES: '65536',
      TUNNEL_REQUESTS_PER_MINUTE: '8',
      TUNNEL_MAX_IN_FLIGHT: '2',
    });
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
    // Chunked, no Content-Length: refused once the bytes read pass the limit.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${relay.url}/webhook/${tunnel.id}`, { method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(big.subarray(0, 40000));
      req.end(big.subarray(40000));
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
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

  it('limits requests per tunnel per minute and live requests in flight (429)', async () => {
    const offline = await createTunnel(relay, agent.token);
    for (let i = 0; i < 8; i++)
      expect((await request(relay.url).post(`/webhook/${offline.id}`).send('x')).status).toBe(503);
    const limited = await request(relay.url).post(`/webhook/${offline.id}`).send('x');
    expectErrorBody(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const slow = await createTunnel(relay, agent.token);
    await connect(relay.url, slow.id, slow.token, () => null);
    const statuses = await Promise.all(
      [1, 2, 3].map(() => request(relay.url).post(`/webhook/${slow.id}`).send('x')),
    );
    expect(statuses.map((r) => r.status).sort()).toEqual([429, 504, 504]);
  });

  it('GET /new is off by default (404)', async () => {
    expectErrorBody(await request(relay.url).get('/new'), 404, 'NOT_FOUND');
  });

  it('admin: lists and deletes any tunnel, lists its requests', async () => {
    const tunnel = await createTunnel(relay, agent.token, { name: 'admin-view' });
    await connect(relay.url, tunnel.id, tunnel.token, () => ({ status: 200 }));
    await request(relay.url).post(`/webhook/${tunnel.id}/one`).send('x').expect(200);
    await request(relay.url).get('/admin/api/tunnels').expect(401);
    const page = await request(relay.url)
      .get('/admin/api/tunnels?limit=100')
      .set('Authorization', ADMIN)
      .expect(200);
    expect(page.body.items).toContainEqual(
      expect.objectContaining({
        id: tunnel.id,
        accountId: agent.accountId,
        name: 'admin-view',
        mode: 'live',
      }),
    );
    await waitUntil(async () => {
      const log = await request(relay.url)
        .get(`/admin/api/tunnels/${tunnel.id}/requests`)
        .set('Authorization', ADMIN);
      return log.body.items?.length === 1;
    });
    const log = await request(relay.url)
      .get(`/admin/api/tunnels/${tunnel.id}/requests`)
      .set('Authorization', ADMIN);
    expect(log.body).toEqual({
      items: [
        expect.objectContaining({
          method: 'POST',
          path: '/one',
          status: 200,
          state: 'answered',
          sizeBytes: 1,
        }),
      ],
      nextCursor: null,
    });
    expect(log.body.items[0]).not.toHaveProperty('body');
    const replay = await request(relay.url)
      .post(`/admin/api/tunnels/${tunnel.id}/requests/${log.body.items[0].id}/replay`)
      .set('Authorization', ADMIN);
    expectErrorBody(replay, 409, 'TUNNEL_NOT_DURABLE');
    await request(relay.url)
      .delete(`/admin/api/tunnels/${tunnel.id}`)
      .set('Authorization', ADMIN)
      .expect(204);
    expectErrorBody(
      await request(relay.url).delete(`/admin/api/tunnels/${tunnel.id}`).set('Authorization', ADMIN),
      404,
      'TUNNEL_NOT_FOUND',
    );
    expectErrorBody(
      await request(relay.url).post(`/webhook/${tunnel.id}`).send('x'),
      404,
      'TUNNEL_NOT_FOUND',
    );
  });

  it('cleanup removes idle tunnels and requests past the retention', async () => {
    const idle = await createTunnel(relay, agent.token);
    const active = await createTunnel(relay, agent.token, { mode: 'durable' });
    await request(relay.url).post(`/webhook/${active.id}`).send('old').expect(202);
    await request(relay.url).post(`/webhook/${active.id}`).send('new').expect(202);
    await sql(`UPDATE tunnels SET last_activity_at = now() - interval '31 days' WHERE id = $1`, [idle.id]);
    await sql(
      `UPDATE tunnel_requests SET created_at = now() - interval '73 hours'
        WHERE id = (SELECT id FROM tunnel_requests WHERE tunnel_id = $1 ORDER BY seq LIMIT 1)`,
      [active.id],
    );
    const results = await relay.app.get(CleanupService).runOnce();
    expect(results?.deletedIdleTunnels).toBeGreaterThanOrEqual(1);
    expect(results?.deletedTunnelRequests).toBeGreaterThanOrEqual(1);
    expect(await sql(`SELECT id FROM tunnels WHERE id = $1`, [idle.id])).toEqual([]);
    const left = await sql<{ body: Buffer }>(`SELECT body FROM tunnel_requests WHERE tunnel_id = $1`, [
      active.id,
    ]);
    expect(left.map((r) => r.body.toString())).toEqual(['new']);
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
    b = await startRelay({ ...env, TUNNEL_ANONYMOUS: 'true' });
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

  it('deleting a tunnel closes its socket with 4404 on whichever replica holds it', async () => {
    const tunnel = await createTunnel(a, agent.token);
    const program = await connect(a.url, tunnel.id, tunnel.token);
    await request(b.url)
      .delete(`/v1/tunnels/${tunnel.id}`)
      .set('Authorization', `Bearer ${agent.token}`)
      .expect(204);
    expect(await program.closed).toBe(4404);
  });

  it('GET /new (TUNNEL_ANONYMOUS=true) issues an anonymous live tunnel a program can use at once', async () => {
    const res = await request(b.url).get('/new').expect(200);
    expect(res.body).toEqual({
      id: expect.any(String),
      webhookUrl: `${b.url}/webhook/${res.body.id}`,
      token: expect.stringMatching(/^[0-9a-f-]{36}\.[0-9a-f]{64}$/),
      mode: 'live',
    });
    await connect(a.url, res.body.id, res.body.token, () => ({ status: 200, body: 'anon' }));
    expect((await post(b, res.body.id, 'x')).body.toString()).toBe('anon');
  });

  it('admin replay: a stored request of a durable tunnel is delivered again', async () => {
    const tunnel = await createTunnel(a, agent.token, { mode: 'durable' });
    const program = await connect(a.url, tunnel.id, tunnel.token, () => ({ status: 200 }));
    const stored = JSON.parse((await post(b, tunnel.id, 'once more')).body.toString()) as { id: string };
    await program.waitForRequests(1);
    const res = await request(b.url)
      .post(`/admin/api/tunnels/${tunnel.id}/requests/${stored.id}/replay`)
      .set('Authorization', ADMIN)
      .expect(202);
    expect(res.body).toMatchObject({ method: 'POST', path: '/seq', state: 'pending', durable: true });
    await program.waitForRequests(2);
    expect(bodies(program)).toEqual(['once more', 'once more']);
    expectErrorBody(
      await request(b.url)
        .post(`/admin/api/tunnels/${tunnel.id}/requests/${tunnel.id}/replay`)
        .set('Authorization', ADMIN),
      404,
      'TUNNEL_REQUEST_NOT_FOUND',
    );
  });
});
