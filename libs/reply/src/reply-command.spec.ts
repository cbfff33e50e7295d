import { RateLimitedError, UnauthorizedError } from '@app/core';
import type { AgentAuthService, AgentPrincipal } from '@app/pairing';
import type { RateLimitGuard, RateLimitRule } from '@app/platform';
import { ReplyCommand } from './reply-command';
import type { ReplyDto } from './dto/reply.dto';
import type { ReplyService } from './reply.service';

const paired: AgentPrincipal = {
  kind: 'session',
  sessionId: 's',
  accountId: 'acct',
  status: 'paired',
  expiresAt: null,
  tokenHash: 'h',
};
const MESSAGE_ID = '0190a8a0-0000-7000-8000-000000000001';
const RESPONSE = { version: '2.0', template: { outputs: [] } };

function command(options: { principal?: AgentPrincipal | Error; limited?: boolean } = {}) {
  const hits: Array<[string, string]> = [];
  const replied: ReplyDto[] = [];
  const auth = {
    authenticate: async () => {
      if (options.principal instanceof Error) throw options.principal;
      return options.principal ?? paired;
    },
  } as unknown as AgentAuthService;
  const limits = {
    enforce: async (rule: RateLimitRule, key: string) => {
      hits.push([rule.bucket, key]);
      if (options.limited) throw new RateLimitedError('Too many requests; try again in 30 s.', {});
      return {};
    },
  } as unknown as RateLimitGuard;
  const replies = {
    reply: async (_agent: AgentPrincipal, dto: ReplyDto) => {
      replied.push(dto);
      return { success: true, status: 'accepted', replyId: 'r' };
    },
  } as unknown as ReplyService;
  return { run: new ReplyCommand(auth, limits, replies), hits, replied };
}

describe('ReplyCommand (a reply without HTTP, as POST /openclaw/reply)', () => {
  it('authenticates, counts the account’s reply limit, validates and replies: 200 and the body', async () => {
    const { run, hits, replied } = command();
    await expect(run.run('t', { messageId: MESSAGE_ID, response: RESPONSE })).resolves.toEqual({
      status: 200,
      body: { success: true, status: 'accepted', replyId: 'r' },
    });
    expect(hits).toEqual([['reply', 'acct']]);
    expect(replied).toEqual([{ messageId: MESSAGE_ID, response: RESPONSE }]);
  });

  it('answers the uniform error body for each refusal, never throws', async () => {
    const invalid = await command().run.run('t', { messageId: 'x', response: RESPONSE, extra: 1 });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_ERROR' });
    const fields = (invalid.body as { details: Array<{ field: string }> }).details.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['messageId', 'extra']));

    const revoked = command({ principal: new UnauthorizedError('SESSION_DISCONNECTED', 'gone') });
    await expect(revoked.run.run('t', {})).resolves.toEqual({
      status: 401,
      body: { statusCode: 401, code: 'SESSION_DISCONNECTED', message: 'gone' },
    });

    const limited = command({ limited: true });
    expect((await limited.run.run('t', { messageId: MESSAGE_ID, response: RESPONSE })).status).toBe(429);
    expect(limited.replied).toEqual([]);
  });

  it('a pending session is not counted (it has no account; ReplyService answers it SESSION_NOT_PAIRED)', async () => {
    const pending = command({ principal: { ...paired, accountId: null, status: 'pending_pairing' } });
    const { hits } = pending;
    await pending.run.run('t', { messageId: MESSAGE_ID, response: RESPONSE });
    expect(hits).toEqual([]);
  });
});
