import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import request from 'supertest';
import { TunnelHub } from '@app/tunnels';
import { expectErrorBody, pairAgent, resetState, sql, waitUntil } from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';
import { TunnelProgram } from './support/tunnel-program';

const ADMIN = { Authorization: 'Bearer admin-token-for-tests-0123456789' };
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

/** A request with exactly these bytes (supertest would serialise a Buffer sent as JSON). */
export function rawRequest(
  url: string,
  method: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: { 'Content-Length': String(body.length), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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
