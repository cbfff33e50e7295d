import { randomBytes } from 'node:crypto';
import { parseSecretsKey, SecretBox, SecretsKeyMissingError, SecretUnreadableError } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a value, with a fresh IV each time', () => {
    const secret = 'bot-secret ✓ 한글 ' + 'x'.repeat(5000);
    const a = box.seal(secret);
    const b = box.seal(secret);
    expect(a).not.toEqual(b);
    expect(a).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('bot-secret');
    expect(box.open(a)).toBe(secret);
    expect(box.open(b)).toBe(secret);
    expect(box.open(box.seal(''))).toBe('');
  });

  it('refuses an altered value (ciphertext, tag, IV or version)', () => {
    const sealed = box.seal('the secret');
    const [v, iv, tag, ct] = sealed.split(':');
    const flip = (s: string) => {
      const bytes = Buffer.from(s, 'base64url');
      bytes[0] ^= 1;
      return bytes.toString('base64url');
    };
    for (const bad of [
      [v, iv, tag, flip(ct)],
      [v, iv, flip(tag), ct],
      [v, flip(iv), tag, ct],
      ['v2', iv, tag, ct],
      [v, iv, tag],
    ]) {
      expect(() => box.open(bad.join(':'))).toThrow(SecretUnreadableError);
    }
    expect(() => box.open('not sealed')).toThrow(SecretUnreadableError);
  });

  it('refuses a value sealed with another key', () => {
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(box.seal('the secret'))).toThrow(SecretUnreadableError);
  });

  it('without a key, neither seals nor opens: SECRETS_KEY_MISSING naming RELAY_SECRETS_KEY', () => {
    const keyless = SecretBox.fromSetting(undefined);
    expect(keyless.hasKey).toBe(false);
    expect(() => keyless.seal('x')).toThrow(SecretsKeyMissingError);
    expect(() => keyless.open(box.seal('x'))).toThrow(SecretsKeyMissingError);
    const error = new SecretsKeyMissingError();
    expect(error.statusCode).toBe(503);
    expect(error.code).toBe('SECRETS_KEY_MISSING');
    expect(error.message).toContain('RELAY_SECRETS_KEY');
  });
});

describe('parseSecretsKey', () => {
  const key = randomBytes(32);

  it('takes 32 bytes as hex, base64 or base64url', () => {
    expect(parseSecretsKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretsKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretsKey(key.toString('base64url'))).toEqual(key);
  });

  it('stretches a long passphrase with HKDF, the same way every time', () => {
    const phrase = 'correct horse battery staple, and then some more';
    const derived = parseSecretsKey(phrase);
    expect(derived).toHaveLength(32);
    expect(parseSecretsKey(phrase)).toEqual(derived);
    expect(parseSecretsKey(phrase + '!')).not.toEqual(derived);
    // A box of the passphrase opens what another box of the same passphrase sealed (a second replica).
    expect(SecretBox.fromSetting(phrase).open(SecretBox.fromSetting(phrase).seal('s'))).toBe('s');
  });

  it('refuses a short value without quoting it', () => {
    expect(() => parseSecretsKey('short-secret')).toThrow(/RELAY_SECRETS_KEY must be 32 bytes/);
    try {
      parseSecretsKey('short-secret');
    } catch (e) {
      expect((e as Error).message).not.toContain('short-secret');
    }
  });
});
