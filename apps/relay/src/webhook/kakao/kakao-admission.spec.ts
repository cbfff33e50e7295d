import { parseConfig } from '@app/config';
import { ForbiddenError, KakaoSkillPayload, RelayError, ValidationError } from '@app/core';
import { KakaoAdmission } from './kakao-admission';

function payload(botId: unknown, callbackUrl?: string): KakaoSkillPayload {
  return {
    userRequest: { utterance: 'hi', user: { id: 'u1' }, ...(callbackUrl ? { callbackUrl } : {}) },
    ...(botId === undefined ? {} : { bot: { id: botId as string } }),
  };
}

function verdict(admission: KakaoAdmission, p: KakaoSkillPayload): string {
  try {
    admission.admit(p);
    return 'admitted';
  } catch (e) {
    expect(e).toBeInstanceOf(RelayError);
    const error = e as RelayError;
    return `${error.statusCode} ${error.code}${error.details ? ` ${error.details[0].message}` : ''}`;
  }
}

describe('KakaoAdmission', () => {
  const open = new KakaoAdmission(parseConfig({}));
  const listed = new KakaoAdmission(parseConfig({ KAKAO_ALLOWED_BOT_IDS: 'bot-a,bot-b' }));
  const local = new KakaoAdmission(
    parseConfig({ KAKAO_CALLBACK_ALLOW_HTTP: 'true', KAKAO_CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost' }),
  );
  const kakao = 'https://bot-api.kakao.com/v1/callback/x';

  it.each<[string, KakaoAdmission, KakaoSkillPayload, string]>([
    ['any bot when the list is unset', open, payload('whatever'), 'admitted'],
    ['no bot when the list is unset', open, payload(undefined), 'admitted'],
    ['a listed bot', listed, payload('bot-b'), 'admitted'],
    ['an unlisted bot', listed, payload('bot-c'), '403 BOT_NOT_ALLOWED'],
    ['a bot id differing in case', listed, payload('BOT-A'), '403 BOT_NOT_ALLOWED'],
    ['no bot while the list is set', listed, payload(undefined), '403 BOT_NOT_ALLOWED'],
    [
      'an unlisted bot with a bad callbackUrl (403 first)',
      listed,
      payload('x', 'ftp://x'),
      '403 BOT_NOT_ALLOWED',
    ],
    ['a Kakao callbackUrl', open, payload('b', kakao), 'admitted'],
    [
      'a callbackUrl of exactly 1024 bytes',
      open,
      payload('b', kakao + 'a'.repeat(1024 - kakao.length)),
      'admitted',
    ],
    [
      'a callbackUrl of 1025 bytes',
      open,
      payload('b', kakao + 'a'.repeat(1025 - kakao.length)),
      '400 VALIDATION_ERROR must be at most 1024 bytes',
    ],
    [
      'a callbackUrl of 400 Hangul characters (1,200 bytes)',
      open,
      payload('b', kakao + '가'.repeat(400)),
      '400 VALIDATION_ERROR must be at most 1024 bytes',
    ],
    [
      'an http callbackUrl',
      open,
      payload('b', 'http://bot-api.kakao.com/cb'),
      expect.stringMatching(/^400 .*https/) as never,
    ],
    [
      'another host',
      open,
      payload('b', 'https://evil.example/cb'),
      expect.stringMatching(/^400 .*ALLOWED_HOSTS/) as never,
    ],
    [
      'another port',
      open,
      payload('b', 'https://bot-api.kakao.com:8443/cb'),
      expect.stringMatching(/^400 .*port 443/) as never,
    ],
    [
      'credentials',
      open,
      payload('b', 'https://a:b@bot-api.kakao.com/cb'),
      expect.stringMatching(/^400 .*credentials/) as never,
    ],
    ['not a URL', open, payload('b', 'not a url'), expect.stringMatching(/^400 .*not a valid URL/) as never],
    ['a local test callback', local, payload('b', 'http://127.0.0.1:45678/cb/1'), 'admitted'],
    [
      'a Kakao callback under the local test list',
      local,
      payload('b', kakao),
      expect.stringMatching(/^400 /) as never,
    ],
  ])('%s', (_name, admission, p, expected) => {
    expect(verdict(admission, p)).toEqual(expected);
  });

  it('throws the typed errors the error filter maps', () => {
    expect(() => listed.admit(payload('nope'))).toThrow(ForbiddenError);
    expect(() => open.admit(payload('b', 'https://evil.example/'))).toThrow(ValidationError);
  });
});
