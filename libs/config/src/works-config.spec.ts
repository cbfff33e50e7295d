import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ConfigValidationError, parseConfig } from './relay-config';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.problems;
    throw e;
  }
  return [];
}

describe('RELAY_SECRETS_KEY', () => {
  it('is optional', () => {
    expect(parseConfig({}).relaySecretsKey).toBeUndefined();
  });

  it('takes 32 bytes as hex or base64, or a passphrase of 32+ characters', () => {
    for (const value of [
      randomBytes(32).toString('hex'),
      randomBytes(32).toString('base64'),
      'a passphrase that is long enough for sure',
    ]) {
      expect(parseConfig({ RELAY_SECRETS_KEY: value }).relaySecretsKey).toBe(value);
    }
  });

  it('refuses a short key without printing it', () => {
    const problems = problemsOf(() => parseConfig({ RELAY_SECRETS_KEY: 'too-short-key' }));
    expect(problems).toEqual([expect.stringContaining('RELAY_SECRETS_KEY must be 32 bytes')]);
    expect(problems.join()).not.toContain('too-short-key');
  });
});

describe('WORKS_* (a one-bot install)', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const files: Record<string, string> = { '/keys/works.pem': pem, '/keys/ec.pem': ecPem };
  const readFile = (path: string): string => {
    if (!(path in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return files[path];
  };
  const env = {
    WORKS_BOT_ID: '2000001',
    WORKS_BOT_SECRET: 'bot-secret',
    WORKS_CLIENT_ID: 'client-id',
    WORKS_CLIENT_SECRET: 'client-secret',
    WORKS_SERVICE_ACCOUNT: 'svc@example.works',
    WORKS_PRIVATE_KEY_FILE: '/keys/works.pem',
  };

  it('is absent when none is set', () => {
    expect(parseConfig({}, readFile).worksBot).toBeNull();
  });

  it('reads the bot and its private key when all are set', () => {
    expect(parseConfig(env, readFile).worksBot).toEqual({
      botId: '2000001',
      botSecret: 'bot-secret',
      clientId: 'client-id',
      clientSecret: 'client-secret',
      serviceAccount: 'svc@example.works',
      privateKeyFile: '/keys/works.pem',
      privateKey: pem,
    });
  });

  it('lists the missing ones when only some are set', () => {
    const problems = problemsOf(() =>
      parseConfig({ WORKS_BOT_ID: '1', WORKS_CLIENT_ID: 'c', PORT: 'x' }, readFile),
    );
    expect(problems).toEqual([
      expect.stringContaining('PORT'),
      expect.stringContaining(
        'missing: WORKS_BOT_SECRET, WORKS_CLIENT_SECRET, WORKS_SERVICE_ACCOUNT, WORKS_PRIVATE_KEY_FILE',
      ),
    ]);
  });

  it('refuses a key file that cannot be read or is not an RSA private key', () => {
    expect(
      problemsOf(() => parseConfig({ ...env, WORKS_PRIVATE_KEY_FILE: '/keys/none.pem' }, readFile)),
    ).toEqual(['WORKS_PRIVATE_KEY_FILE (/keys/none.pem) cannot be read (ENOENT)']);
    expect(
      problemsOf(() => parseConfig({ ...env, WORKS_PRIVATE_KEY_FILE: '/keys/ec.pem' }, readFile)),
    ).toEqual(['WORKS_PRIVATE_KEY_FILE (/keys/ec.pem) must be an RSA key (RS256), not ec']);
  });
});
