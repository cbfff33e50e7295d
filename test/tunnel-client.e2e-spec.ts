import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { pairAgent, resetState, waitUntil } from '@app/testing';
import { freePort } from './support/processes';
import { TcpProxy } from './support/tcp-proxy';
import { RunningRelay, startRelay } from './support/test-app';
import { rawRequest } from './support/tunnel-program';

const BIN = path.join(__dirname, '..', 'bin', 'kakao-relay-tunnel.js');
const SECRET = 'github-webhook-secret';

interface Client {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function runClient(args: string[]): Client {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('kakao-relay-tunnel (websocket.md §3)', () => {
  let relay: RunningRelay;
  let target: Server;
  let targetUrl: string;
  let token: string;
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }> = [];
  const clients: Client[] = [];
  const client = (args: string[]) => {
    const c = runClient(args);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    await resetState();
    relay = await startRelay();
    token = (await pairAgent(relay.url, 'cli-user')).token;
    // The local program: checks GitHub's signature over the exact bytes, answers with what it got.
    target = createServer((req, res) => {
      void readBody(req).then((body) => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
        const got = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
        const ok = got.length === expected.length && timingSafeEqual(got, expected);
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/octet-stream', 'x-target': 'yes' });
        res.end(ok ? body : 'bad signature');
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  });

  afterAll(async () => {
    await relay?.close();
    await new Promise((resolve) => target?.close(resolve));
  });

  const createTunnel = async () =>
    (
      await request(relay.url)
        .post('/v1/tunnels')
        .set('Authorization', `Bearer ${token}`)
        .send({})
        .expect(201)
    ).body as { id: string; token: string; webhookUrl: string };

  it('--help documents every flag and exits 0', async () => {
    const c = client(['--help']);
    expect(await c.exited).toBe(0);
    for (const flag of [
      '--server-url',
      '--token',
      '--target-url',
      '--tunnel-id',
      '--timeout-ms',
      '--max-backoff-ms',
      '--quiet',
      '--help',
    ]) {
      expect(c.stdout()).toContain(flag);
    }
  });

  it('exits non-zero with a clear message on a bad token', async () => {
    const tunnel = await createTunnel();
    const bad = `${tunnel.id}.${'0'.repeat(64)}`;
    const c = client(['--server-url', relay.url, '--token', bad, '--target-url', targetUrl]);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(/refused the tunnel token \(401\)/);
    const missing = client(['--server-url', relay.url, '--target-url', targetUrl]);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toContain('--token is required');
  });

  it('prints the webhook URL and forwards GitHub-signed requests to the target, bytes unchanged', async () => {
    const tunnel = await createTunnel();
    const c = client([
      '--server-url',
      relay.url,
      '--token',
      tunnel.token,
      '--target-url',
      `${targetUrl}/hooks`,
    ]);
    await waitUntil(() => c.stdout().includes(`Webhook URL: ${tunnel.webhookUrl}`));
    const body = Buffer.concat([Buffer.from('{"action":"opened", "n": 1}\n'), randomBytes(64)]);
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const res = await rawRequest(`${tunnel.webhookUrl}/github?delivery=42`, 'POST', body, {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'pull_request',
      'X-Hub-Signature-256': signature,
    });
    expect(res.status).toBe(200);
    expect(res.body.equals(body)).toBe(true);
    expect(res.headers['x-target']).toBe('yes');
    const got = seen.at(-1);
    expect(got).toMatchObject({ method: 'POST', url: '/hooks/github?delivery=42' });
    expect(got?.headers['x-github-event']).toBe('pull_request');
    expect(got?.body.equals(body)).toBe(true);
    // A wrong signature reaches the target too, which refuses it; the caller sees its answer.
    const forged = await rawRequest(tunnel.webhookUrl, 'POST', body, { 'X-Hub-Signature-256': 'sha256=00' });
    expect(forged.status).toBe(401);
    expect(forged.body.toString()).toBe('bad signature');
  });

  it('exits 3 when its tunnel is deleted', async () => {
    const tunnel = await createTunnel();
    const c = client(['--server-url', relay.url, '--token', tunnel.token, '--target-url', targetUrl]);
    await waitUntil(() => c.stdout().includes('Webhook URL:'));
    await request(relay.url)
      .delete(`/v1/tunnels/${tunnel.id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(204);
    expect(await c.exited).toBe(3);
    expect(c.stderr()).toContain('the tunnel was deleted');
  });

  it('reconnects after the connection to the relay drops', async () => {
    const tunnel = await createTunnel();
    const port = await freePort();
    const proxy = new TcpProxy(port, relay.port);
    await proxy.open();
    try {
      const c = client([
        '--server-url',
        `http://127.0.0.1:${port}`,
        '--token',
        tunnel.token,
        '--target-url',
        targetUrl,
        '--max-backoff-ms',
        '500',
      ]);
      await waitUntil(() => c.stdout().includes('Webhook URL:'));
      await proxy.cut();
      await waitUntil(() => c.stderr().includes('reconnecting'));
      await proxy.open();
      await waitUntil(() => c.stdout().includes('Reconnected'), 15_000);
      const signature = `sha256=${createHmac('sha256', SECRET).update('again').digest('hex')}`;
      const res = await rawRequest(tunnel.webhookUrl, 'POST', Buffer.from('again'), {
        'X-Hub-Signature-256': signature,
      });
      expect(res.status).toBe(200);
    } finally {
      await proxy.cut();
    }
  }, 30_000);
});
