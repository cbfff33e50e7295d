import { createHmac } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { parseConfig } from '@app/config';
import { FixedClock, InboundOutcome, KakaoSkillPayload, KO, RelayError, SkillResponse } from '@app/core';
import { InMemoryHeldAnswerStore } from '@app/testing/fakes/held-answer-store';
import { InMemoryReplyStore } from '@app/testing/in-memory-reply-store';
import type { InlineReplyWaiter, InlineWait } from './inline-reply.waiter';
import { KakaoAdmission } from './kakao-admission';
import { KakaoChannelAdapter } from './kakao-channel.adapter';

const CALLBACK = 'https://bot-api.kakao.com/v1/callback/abc';

function payload(callbackUrl: string | null = CALLBACK): KakaoSkillPayload {
  return {
    userRequest: {
      utterance: '안녕',
      user: { id: 'bot-user', properties: { plusfriendUserKey: 'pf-user' } },
      ...(callbackUrl ? { callbackUrl } : {}),
    },
    bot: { id: 'bot-1' },
    extra: { kept: true },
  };
}

function adapter(env: Record<string, string> = {}, reply: SkillResponse | null = null) {
  const config = parseConfig({ INLINE_REPLY_TIMEOUT_MS: '3000', CALLBACK_TTL_SECONDS: '55', ...env });
  const events: string[] = [];
  const inline = {
    begin: async (messageId: string): Promise<InlineWait> => {
      events.push(`listen ${messageId}`);
      return { result: Promise.resolve(reply), cancel: () => undefined };
    },
  } as unknown as InlineReplyWaiter;
  const clock = new FixedClock();
  const replies = new InMemoryReplyStore(clock);
  const held = new InMemoryHeldAnswerStore(replies, new Map([['bot-1:pf-user', 'bot-user']]));
  const kakao = new KakaoChannelAdapter(config, new KakaoAdmission(config), inline, held, clock);
  const stored = (messageId = 'm-1'): InboundOutcome => ({
    kind: 'stored',
    messageId,
    handOff: async () => {
      events.push(`hand off ${messageId}`);
    },
  });
  return { kakao, events, stored, replies, held, clock };
}

function verdict(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (e) {
    return `${(e as RelayError).statusCode} ${(e as RelayError).code}`;
  }
}

describe('KakaoChannelAdapter', () => {
  it('serves POST /kakao/webhook with a 1 MiB body limit', () => {
    const { kakao } = adapter();
    expect([kakao.channel, kakao.path, kakao.bodyLimitBytes]).toEqual([
      'kakao',
      '/kakao/webhook',
      1024 * 1024,
    ]);
  });

  it('warns at start when the webhook is open to anyone', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      adapter().kakao.onModuleInit();
      adapter({ KAKAO_SKILL_SECRET: 'a-long-secret' }).kakao.onModuleInit();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('authenticates the skill secret and the signature of the raw bytes', () => {
    const { kakao } = adapter({ KAKAO_SKILL_SECRET: 'a-long-secret', KAKAO_SIGNATURE_SECRET: 'sig-secret' });
    const rawBody = Buffer.from('{"any":"bytes"}');
    const signature = createHmac('sha256', 'sig-secret').update(rawBody).digest('hex');
    const headers = { 'x-relay-skill-secret': 'a-long-secret', 'x-kakao-signature': signature };
    expect(verdict(() => kakao.authenticate({ headers, rawBody }))).toBe('ok');
    expect(
      verdict(() => kakao.authenticate({ headers: { ...headers, 'x-relay-skill-secret': 'x' }, rawBody })),
    ).toBe('401 INVALID_SKILL_SECRET');
    expect(verdict(() => kakao.authenticate({ headers, rawBody: Buffer.from('{}') }))).toBe(
      '401 INVALID_SIGNATURE',
    );
  });

  it('names the conversation "<bot.id>:<plusfriendUserKey>" and keeps the payload as received', () => {
    const { kakao } = adapter();
    const body = payload();
    expect(kakao.parse(body)).toEqual({
      channel: 'kakao',
      botId: 'bot-1',
      conversation: { channelId: 'bot-1', userId: 'pf-user', conversationKey: 'bot-1:pf-user' },
      text: '안녕',
      normalized: { userId: 'pf-user', text: '안녕', channelId: 'bot-1' },
      payload: body,
      replyMode: 'callback',
      callbackUrl: CALLBACK,
      replyWindowMs: 55_000,
    });
    expect(kakao.parse(body).payload).toBe(body);
    expect(kakao.parse(payload(null))).toMatchObject({
      replyMode: 'inline',
      callbackUrl: null,
      replyWindowMs: 3000,
    });
    expect(verdict(() => kakao.parse({ userRequest: { user: { id: 'u' } } }))).toBe('400 VALIDATION_ERROR');
  });

  it('admits through KAKAO_ALLOWED_BOT_IDS and the callback policy', () => {
    const { kakao } = adapter({ KAKAO_ALLOWED_BOT_IDS: 'bot-2' });
    expect(verdict(() => kakao.admit(kakao.parse(payload())))).toBe('403 BOT_NOT_ALLOWED');
    const open = adapter().kakao;
    expect(verdict(() => open.admit(open.parse(payload('http://evil.example/cb'))))).toBe(
      '400 VALIDATION_ERROR',
    );
    expect(verdict(() => open.admit(open.parse(payload())))).toBe('ok');
  });

  it.each<[string, InboundOutcome, Record<string, string> | undefined]>([
    ['a command answer', { kind: 'command', text: KO.help }, undefined],
    ['the pairing hint', { kind: 'unpaired', text: KO.notPaired }, undefined],
    ['the refusal of a bound bot', { kind: 'refused', text: KO.botNotAllowed }, undefined],
    ['the flood notice', { kind: 'flood', text: KO.slowDown }, undefined],
    ['"unavailable"', { kind: 'unavailable', text: KO.unavailable }, undefined],
    [
      '"unavailable" with Retry-After',
      { kind: 'unavailable', text: KO.unavailable, retryAfterSeconds: 1 },
      { 'Retry-After': '1' },
    ],
  ])('answers %s as a 200 simpleText', async (_name, outcome, headers) => {
    const { kakao } = adapter();
    const text = (outcome as { text: string }).text;
    expect(await kakao.answer(kakao.parse(payload()), outcome)).toEqual({
      status: 200,
      body: { version: '2.0', template: { outputs: [{ simpleText: { text } }] } },
      headers,
    });
  });

  it('answers useCallback to a stored callback-mode message (after the hand-off) and to its duplicate', async () => {
    const { kakao, events, stored } = adapter();
    const message = kakao.parse(payload());
    expect(await kakao.answer(message, stored())).toEqual({
      status: 200,
      body: { version: '2.0', useCallback: true },
    });
    expect(events).toEqual(['hand off m-1']);
    expect(await kakao.answer(message, { kind: 'duplicate' })).toEqual({
      status: 200,
      body: { version: '2.0', useCallback: true },
    });
  });

  it('inline: listens before the hand-off and answers with the reply', async () => {
    const reply: SkillResponse = { version: '2.0', template: { outputs: [{ simpleText: { text: '답' } }] } };
    const { kakao, events, stored } = adapter({}, reply);
    expect(await kakao.answer(kakao.parse(payload(null)), stored())).toEqual({ status: 200, body: reply });
    expect(events).toEqual(['listen m-1', 'hand off m-1']);
  });

  it('inline: "not ready yet" when no reply came in time', async () => {
    const { kakao, stored } = adapter();
    expect(await kakao.answer(kakao.parse(payload(null)), stored())).toEqual({
      status: 200,
      body: { version: '2.0', template: { outputs: [{ simpleText: { text: KO.notReady } }] } },
      replyTimedOut: true,
    });
  });

  describe('the event block of a held answer (server-mode §4)', () => {
    const heldId = '0190a0b0-0000-7000-8000-000000000001';
    const late: SkillResponse = {
      version: '2.0',
      template: { outputs: [{ simpleText: { text: '늦은 답' } }] },
    };

    async function withHeld() {
      const setup = adapter();
      setup.replies.addMessage({ id: 'm-1', accountId: 'a-1', conversationKey: 'bot-1:pf-user' });
      await setup.held.holdReply(
        'm-1',
        heldId,
        { replyId: 'r-1', response: late, receivedAt: setup.clock.date().toISOString() },
        setup.clock.after(3_600_000),
      );
      return setup;
    }

    const eventRequest = (where: 'params' | 'event', id = heldId, userId = 'bot-user'): KakaoSkillPayload => {
      const base = payload(null);
      base.userRequest.user.id = userId;
      if (where === 'params') base.action = { params: { heldId: id } };
      else (base.userRequest as Record<string, unknown>).event = { name: 'relay_held', data: { heldId: id } };
      return base;
    };

    it('answers with the held SkillResponse once, then with a short text', async () => {
      const { kakao } = await withHeld();
      const message = kakao.parse(eventRequest('params'));
      expect(await kakao.answerDirectly(message)).toEqual({ status: 200, body: late, heldAnswerSent: true });
      expect(await kakao.answerDirectly(message)).toEqual({
        status: 200,
        body: { version: '2.0', template: { outputs: [{ simpleText: { text: KO.heldAnswerGone } }] } },
      });
    });

    it('finds the heldId in userRequest.event.data too', async () => {
      const { kakao } = await withHeld();
      expect(await kakao.answerDirectly(kakao.parse(eventRequest('event')))).toEqual({
        status: 200,
        body: late,
        heldAnswerSent: true,
      });
    });

    it('never gives a held answer to another user, and leaves ordinary messages to the core', async () => {
      const { kakao, held } = await withHeld();
      const other = await kakao.answerDirectly(kakao.parse(eventRequest('params', heldId, 'someone-else')));
      expect(other).toMatchObject({
        status: 200,
        body: { template: { outputs: [{ simpleText: { text: KO.heldAnswerGone } }] } },
      });
      expect((await held.find(heldId))?.status).toBe('held');
      expect(kakao.answerDirectly(kakao.parse(payload()))).toBeNull();
      expect(kakao.answerDirectly(kakao.parse(eventRequest('params', 'not-a-uuid')))).toBeNull();
    });
  });
});
