import http from 'node:http';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { NewWorksBot, WorksBotRegistry } from '@app/core';

/** A client app the fake's token endpoint knows: its secret, service account and public key (PEM). */
export interface FakeWorksClient {
  clientId: string;
  clientSecret: string;
  serviceAccount: string;
  publicKey: string;
}

export interface FakeWorksTokenRequest {
  clientId: string;
  /** The token issued, or null when the request was refused. */
  issued: string | null;
  error: string | null;
  at: number;
}

export interface FakeWorksSend {
  botId: string;
  kind: 'user' | 'channel';
  targetId: string;
  content: Record<string, unknown>;
  token: string | null;
  /** What the fake answered. */
  status: number;
  at: number;
}

/** How the fake answers the next send request (a script; by default 201). */
export interface FakeWorksAnswer {
  status: number;
  retryAfter?: string;
  body?: unknown;
}

const TOKEN_PATH = '/oauth2/v2.0/token';
const SEND_PATH = /^\/v1\.0\/bots\/([^/]+)\/(users|channels)\/([^/]+)\/messages$/;

function verifyJwt(jwt: string, client: FakeWorksClient): string | null {
  const parts = jwt.split('.');
  if (parts.length !== 3) return 'assertion is not a compact JWT';
  const [header, claims, signature] = parts;
  const ok = createVerify('RSA-SHA256')
    .update(`${header}.${claims}`)
    .verify(client.publicKey, Buffer.from(signature, 'base64url'));
  if (!ok) return 'assertion signature does not verify';
  const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string; typ?: string };
  if (h.alg !== 'RS256' || h.typ !== 'JWT') return 'assertion header is not RS256 JWT';
  const c = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (c.iss !== client.clientId) return 'iss is not the client id';
  if (c.sub !== client.serviceAccount) return 'sub is not the service account';
  if (typeof c.iat !== 'number' || typeof c.exp !== 'number' || c.exp <= c.iat || c.exp - c.iat > 3600) {
    return 'iat/exp invalid (an hour at most)';
  }
  return null;
}

/**
 * A stand-in for Naver Works on 127.0.0.1: the OAuth token endpoint (`{url}/oauth2/v2.0/token`: checks the
 * grant type, client secret and the RS256 assertion against the client's public key, answers `expires_in` as a
 * string) and the send API (`{url}/v1.0/bots/{botId}/users|channels/{id}/messages`: checks the bearer token,
 * records the message, answers 201 unless scripted otherwise: 429 with Retry-After, 5xx, 400, 401, latency).
 */
export class FakeWorks {
  readonly tokenRequests: FakeWorksTokenRequest[] = [];
  readonly sends: FakeWorksSend[] = [];
  private readonly clients = new Map<string, FakeWorksClient>();
  private readonly validTokens = new Set<string>();
  private readonly script: FakeWorksAnswer[] = [];
  private server!: http.Server;
  private issued = 0;
  /** Each send request waits a random time up to this. */
  latencyMs = 0;
  /** `expires_in` of the tokens issued from now on (seconds, sent as a string). */
  expiresInS = 86400;
  url = '';

  static async start(): Promise<FakeWorks> {
    const fake = new FakeWorks();
    await fake.listen();
    return fake;
  }

  get authUrl(): string {
    return `${this.url}${TOKEN_PATH}`;
  }

  get apiBaseUrl(): string {
    return `${this.url}/v1.0`;
  }

  registerClient(client: FakeWorksClient): void {
    this.clients.set(client.clientId, client);
  }

  /** The next send requests are answered by these, in order (then 201 again). */
  answerNext(...answers: FakeWorksAnswer[]): void {
    this.script.push(...answers);
  }

  /** Every token issued so far stops working (the send API answers 401 to it). */
  revokeTokens(): void {
    this.validTokens.clear();
  }

  tokenRequestsOf(clientId: string): FakeWorksTokenRequest[] {
    return this.tokenRequests.filter((r) => r.clientId === clientId);
  }

  /**
   * A Works bot with a client app of its own (so it starts without a cached token): a fresh RSA key pair, the client
   * app made known to this fake's token endpoint, the bot registered in the relay's `registry`. Returns the bot.
   */
  async registerBot(
    registry: WorksBotRegistry,
    bot: { botId: string; botSecret: string; clientId: string },
  ): Promise<NewWorksBot> {
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const registered: NewWorksBot = {
      ...bot,
      name: null,
      clientSecret: `secret-of-${bot.clientId}`,
      serviceAccount: `svc-${bot.clientId}@example.works`,
      privateKey: keys.privateKey,
    };
    this.registerClient({
      clientId: bot.clientId,
      clientSecret: registered.clientSecret,
      serviceAccount: registered.serviceAccount,
      publicKey: keys.publicKey,
    });
    await registry.create(registered);
    return registered;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        if (req.method === 'POST' && path === TOKEN_PATH) return this.token(raw, res);
        const match = req.method === 'POST' ? SEND_PATH.exec(path) : null;
        if (match) return void this.send(match, req, raw, res);
        res.writeHead(404).end();
      });
    });
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        resolve();
      }),
    );
  }

  private token(raw: string, res: http.ServerResponse): void {
    const form = new URLSearchParams(raw);
    const clientId = form.get('client_id') ?? '';
    const client = this.clients.get(clientId);
    let error: string | null = null;
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      error = 'unsupported grant_type';
    else if (!client || form.get('client_secret') !== client.clientSecret) error = 'invalid client';
    else if (form.get('scope') !== 'bot') error = 'scope must be bot';
    else error = verifyJwt(form.get('assertion') ?? '', client);
    if (error) {
      this.tokenRequests.push({ clientId, issued: null, error, at: Date.now() });
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: error }));
      return;
    }
    const token = `works-token-${++this.issued}`;
    this.validTokens.add(token);
    this.tokenRequests.push({ clientId, issued: token, error: null, at: Date.now() });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        access_token: token,
        refresh_token: `refresh-${this.issued}`,
        token_type: 'Bearer',
        expires_in: String(this.expiresInS),
        scope: 'bot',
      }),
    );
  }

  private async send(
    match: RegExpExecArray,
    req: http.IncomingMessage,
    raw: string,
    res: http.ServerResponse,
  ): Promise<void> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, Math.random() * this.latencyMs));
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : null;
    let content: Record<string, unknown> = {};
    try {
      content = (JSON.parse(raw) as { content: Record<string, unknown> }).content;
    } catch {
      // recorded as empty; answered 400 below
    }
    let answer: FakeWorksAnswer;
    if (!token || !this.validTokens.has(token)) {
      answer = { status: 401, body: { code: 'UNAUTHORIZED', description: 'Authentication failed' } };
    } else if (!content || typeof content.type !== 'string') {
      answer = { status: 400, body: { code: 'INVALID_PARAMETER', description: 'content' } };
    } else {
      answer = this.script.shift() ?? { status: 201 };
    }
    if (answer.status === 401 && token) this.validTokens.delete(token);
    this.sends.push({
      botId: decodeURIComponent(match[1]),
      kind: match[2] === 'users' ? 'user' : 'channel',
      targetId: decodeURIComponent(match[3]),
      content,
      token,
      status: answer.status,
      at: Date.now(),
    });
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
    if (answer.retryAfter !== undefined) headers['Retry-After'] = answer.retryAfter;
    res.writeHead(answer.status, headers);
    res.end(answer.status === 201 ? '' : JSON.stringify(answer.body ?? { code: `HTTP_${answer.status}` }));
  }
}
