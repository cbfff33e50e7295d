import { RelayError } from '@app/core';
import { validateSkillPayload } from './skill-payload.validator';

function verdict(body: unknown): string {
  try {
    validateSkillPayload(body);
    return 'ok';
  } catch (e) {
    return `${(e as RelayError).statusCode} ${(e as RelayError).code}`;
  }
}

function body(user: Record<string, unknown>, bot?: unknown, callbackUrl?: unknown): unknown {
  return {
    userRequest: { utterance: 'hi', user, ...(callbackUrl === undefined ? {} : { callbackUrl }) },
    ...(bot === undefined ? {} : { bot }),
  };
}

describe('validateSkillPayload: id and key bounds', () => {
  it.each<[string, unknown, string]>([
    ['a user id of 256 characters', body({ id: 'u'.repeat(256) }), 'ok'],
    ['a user id of 257 characters', body({ id: 'u'.repeat(257) }), '400 VALIDATION_ERROR'],
    ['a user id of 256 emoji', body({ id: '🦜'.repeat(256) }), 'ok'],
    [
      'a plusfriendUserKey of 256',
      body({ id: 'u', properties: { plusfriendUserKey: 'k'.repeat(256) } }),
      'ok',
    ],
    [
      'a plusfriendUserKey of 257',
      body({ id: 'u', properties: { plusfriendUserKey: 'k'.repeat(257) } }),
      '400 VALIDATION_ERROR',
    ],
    [
      'a plusfriendUserKey of 900 KB',
      body({ id: 'u', properties: { plusfriendUserKey: 'k'.repeat(900_000) } }),
      '400 VALIDATION_ERROR',
    ],
    [
      'a non-string plusfriendUserKey (ignored)',
      body({ id: 'u', properties: { plusfriendUserKey: 5 } }),
      'ok',
    ],
    ['other property keys, unchecked', body({ id: 'u', properties: { appUserId: 'a'.repeat(5000) } }), 'ok'],
    ['a bot id of 256', body({ id: 'u' }, { id: 'b'.repeat(256) }), 'ok'],
    ['a bot id of 257', body({ id: 'u' }, { id: 'b'.repeat(257) }), '400 VALIDATION_ERROR'],
    ['a callbackUrl of 1024 characters', body({ id: 'u' }, undefined, 'h'.repeat(1024)), 'ok'],
    [
      'a callbackUrl of 1025 characters',
      body({ id: 'u' }, undefined, 'h'.repeat(1025)),
      '400 VALIDATION_ERROR',
    ],
  ])('%s → %s', (_name, input, expected) => {
    expect(verdict(input)).toBe(expected);
  });

  it('hands the original object on untouched', () => {
    const input = body(
      { id: 'u', properties: { plusfriendUserKey: 'k', extra: [1] } },
      { id: 'b', name: 'n' },
    );
    expect(validateSkillPayload(input)).toBe(input);
  });
});
