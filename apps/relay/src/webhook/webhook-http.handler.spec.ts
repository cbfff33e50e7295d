import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChannelAdapter,
  ChannelAnswer,
  ChannelRequest,
  InboundMessage,
  InboundOutcome,
  UnauthorizedError,
  ValidationError,
} from '@app/core';
import { ErrorBodyFilter, securityHeaderList } from '@app/platform';
import type { InboundService } from './inbound.service';
import { WebhookHttpHandler } from './webhook-http.handler';

/** A messenger made up for the test: a shared-secret header, `{"text": ...}` bodies. */
class TestAdapter extends ChannelAdapter<{ text: string }> {
  readonly channel = 'works';
  readonly bodyLimitBytes = 64;
  readonly calls: string[] = [];

  constructor(readonly path: string) {
    super();
  }

  authenticate(request: ChannelRequest): void {
    this.calls.push(`authenticate ${request.rawBody.toString()}`);
    if (request.headers['x-test-secret'] !== 'ok') throw new UnauthorizedError('BAD_SECRET', 'no');
  }

  parse(body: unknown): InboundMessage<{ text: string }> {
    const text = (body as { text?: unknown }).text;
    if (typeof text !== 'string') throw new ValidationError('text is missing');
    return {
      channel: 'works',
      botId: 'bot',
      conversation: { channelId: 'bot', userId: 'user', conversationKey: `${this.path}:user` },
      text,
      normalized: { userId: 'user', text, channelId: 'bot' },
      payload: { text },
      replyMode: 'callback',
      callbackUrl: null,
      replyWindowMs: 1000,
    };
  }

  admit(): void {}

  answer(message: InboundMessage, outcome: InboundOutcome): ChannelAnswer {
    return { status: 200, body: { path: this.path, outcome: outcome.kind, text: message.text } };
  }
}

describe('WebhookHttpHandler', () => {
  const kakao = new TestAdapter('/kakao/webhook');
  const works = new TestAdapter('/works/callback');
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    const inbound = {
      handle: async (adapter: ChannelAdapter, message: InboundMessage): Promise<ChannelAnswer> => {
        if (message.text === 'busy') {
          return { status: 200, body: { busy: true }, headers: { 'Retry-After': '1' } };
        }
        return adapter.answer(message, { kind: 'command', text: 'ok' });
      },
    } as unknown as InboundService;
    const handler = new WebhookHttpHandler([kakao, works], inbound, new ErrorBodyFilter());
    server = http.createServer((req, res) =>
      handler.middleware(req, res, () => {
        res.statusCode = 404;
        res.end('next');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    kakao.calls.length = 0;
    works.calls.length = 0;
  });

  function send(
    path: string,
    body = '{"text":"hi"}',
    headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Test-Secret': 'ok' },
    method = 'POST',
  ): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method, path, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(method === 'GET' ? undefined : body);
    });
  }

  it.each([
    ['/kakao/webhook', '/kakao/webhook'],
    ['/kakao/webhook/', '/kakao/webhook'],
    ['/kakao/webhook?x=1&y', '/kakao/webhook'],
    ['/KAKAO/Webhook', '/kakao/webhook'],
    ['http://relay.example/kakao/webhook?x=1', '/kakao/webhook'],
    ['/works/callback', '/works/callback'],
    ['/Works/Callback/?a', '/works/callback'],
  ])('routes POST %s to the adapter of %s', async (target, path) => {
    const answer = await send(target);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ path, outcome: 'command', text: 'hi' });
  });

  it.each([
    ['another path', 'POST', '/kakao/webhooks'],
    ['two trailing slashes', 'POST', '/kakao/webhook//'],
    ['a doubled slash', 'POST', '//kakao/webhook'],
    ['an encoded letter', 'POST', '/kakao/%77ebhook'],
    ['GET', 'GET', '/kakao/webhook'],
    ['PUT', 'PUT', '/kakao/webhook'],
  ])('hands %s to the next handler, unread', async (_name, method, path) => {
    const answer = await send(path, '{"text":"hi"}', undefined, method);
    expect(answer).toMatchObject({ status: 404, text: 'next' });
    expect(kakao.calls).toEqual([]);
  });

  it("answers with helmet's headers, X-Request-Id, Content-Type and the answer's own headers", async () => {
    const answer = await send('/kakao/webhook', '{"text":"busy"}', {
      'Content-Type': 'application/json',
      'X-Test-Secret': 'ok',
      'X-Request-Id': 'given-id',
    });
    expect(answer.text).toBe('{"busy":true}');
    const list = securityHeaderList();
    for (let i = 0; i < list.length; i += 2) expect(answer.headers[list[i].toLowerCase()]).toBe(list[i + 1]);
    expect(answer.headers).toMatchObject({
      'x-request-id': 'given-id',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(answer.text.length),
      'retry-after': '1',
    });
  });

  it('authenticates before the body is judged, and raises a body error only once authenticated', async () => {
    const unauthenticated = await send('/kakao/webhook', '{not json', { 'Content-Type': 'application/json' });
    expect(unauthenticated.status).toBe(401);
    expect(JSON.parse(unauthenticated.text)).toEqual({ statusCode: 401, code: 'BAD_SECRET', message: 'no' });
    const malformed = await send('/kakao/webhook', '{not json');
    expect(JSON.parse(malformed.text)).toMatchObject({ statusCode: 400, code: 'VALIDATION_ERROR' });
    expect(kakao.calls).toEqual(['authenticate {not json', 'authenticate {not json']);
    const invalid = await send('/kakao/webhook', '{"other":1}');
    expect(JSON.parse(invalid.text)).toEqual({
      statusCode: 400,
      code: 'VALIDATION_ERROR',
      message: 'text is missing',
    });
  });

  it('parses no JSON for a request that fails authentication (only once it passes)', async () => {
    const body = JSON.stringify({ text: 'parse me later' });
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const refused = await send('/kakao/webhook', body, { 'Content-Type': 'application/json' });
      expect(refused.status).toBe(401);
      expect(parse.mock.calls.filter(([text]) => text === body)).toHaveLength(0);
      const accepted = await send('/kakao/webhook', body);
      expect(accepted.status).toBe(200);
      expect(parse.mock.calls.filter(([text]) => text === body)).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });

  it("refuses a body over the adapter's limit with 413 before authentication", async () => {
    const answer = await send('/works/callback', JSON.stringify({ text: 'x'.repeat(100) }));
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(works.calls).toEqual([]);
  });

  it('refuses two adapters on one path at start', () => {
    expect(
      () =>
        new WebhookHttpHandler(
          [new TestAdapter('/same'), new TestAdapter('/SAME/')],
          {} as InboundService,
          new ErrorBodyFilter(),
        ),
    ).toThrow(/taken already/);
  });
});
