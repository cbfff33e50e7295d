import { JwtService } from '@nestjs/jwt';
import { parseConfig } from '@app/config';
import { FixedClock } from '@app/core';
import { InMemoryApiKeyStore, InMemorySettingsStore } from '@app/testing/fakes/api-key-store';
import { ApiKeyUsage } from './api-key-usage';
import { ApiTokenService, looksLikeJwt, TOKEN_ISSUER } from './api-token.service';
import { JWT_KEY_SETTING, JwtSigningKey } from './jwt-signing-key';

const ACCOUNT = '0190a0b0-0000-7000-8000-000000000001';
const KEY_ID = '0190a0b0-0000-7000-8000-0000000000aa';

function apiTokenFixture(env: Record<string, string> = {}) {
  const clock = new FixedClock(Date.UTC(2026, 10, 30, 6));
  const keys = new InMemoryApiKeyStore(clock);
  const settings = new InMemorySettingsStore();
  const jwt = new JwtService({});
  const signingKey = new JwtSigningKey(parseConfig(env), settings);
  const usage = new ApiKeyUsage(keys, clock);
  const tokens = new ApiTokenService(jwt, signingKey, keys, usage, clock);
  return { clock, keys, settings, jwt, signingKey, tokens };
}

async function withKey() {
  const f = apiTokenFixture();
  f.keys.accounts.add(ACCOUNT);
  await f.keys.create({ id: KEY_ID, accountId: ACCOUNT, apiKey: 'ak', secretHash: 'h' }, 20);
  return f;
}

const rejection = (code: string) => expect.objectContaining({ statusCode: 401, code });

describe('ApiTokenService', () => {
  it('signs HS256 with iss, sub (account), kid (key), iat and exp from the clock', async () => {
    const { tokens, jwt, clock } = await withKey();
    const issued = await tokens.issue({ id: KEY_ID, accountId: ACCOUNT }, 600);
    expect(looksLikeJwt(issued.token)).toBe(true);
    expect(issued.expiresAt.getTime()).toBe(clock.now() + 600_000);
    const decoded = jwt.decode<Record<string, unknown>>(issued.token, { complete: true }) as unknown as {
      header: { alg: string };
      payload: Record<string, unknown>;
    };
    expect(decoded.header.alg).toBe('HS256');
    expect(decoded.payload).toEqual({
      iss: TOKEN_ISSUER,
      sub: ACCOUNT,
      kid: KEY_ID,
      iat: clock.now() / 1000,
      exp: clock.now() / 1000 + 600,
    });
    await expect(tokens.verify(issued.token)).resolves.toEqual({
      accountId: ACCOUNT,
      apiKeyId: KEY_ID,
      expiresAt: issued.expiresAt,
    });
  });

  it('is valid until exp and 401 TOKEN_EXPIRED from then on', async () => {
    const { tokens, clock } = await withKey();
    const { token } = await tokens.issue({ id: KEY_ID, accountId: ACCOUNT }, 60);
    clock.advance(59_999);
    await expect(tokens.verify(token)).resolves.toMatchObject({ accountId: ACCOUNT });
    clock.advance(1);
    await expect(tokens.verify(token)).rejects.toEqual(rejection('TOKEN_EXPIRED'));
  });

  it('a revoked key or a key of another account: 401 TOKEN_REVOKED on the next check', async () => {
    const { tokens, keys } = await withKey();
    const { token } = await tokens.issue({ id: KEY_ID, accountId: ACCOUNT }, 600);
    await keys.delete(ACCOUNT, KEY_ID);
    await expect(tokens.verify(token)).rejects.toEqual(rejection('TOKEN_REVOKED'));
    const other = await tokens.issue({ id: KEY_ID, accountId: '0190a0b0-0000-7000-8000-000000000002' }, 600);
    await expect(tokens.verify(other.token)).rejects.toEqual(rejection('TOKEN_REVOKED'));
  });

  it('garbage, a foreign signature, another issuer, "none": 401 INVALID_TOKEN', async () => {
    const { tokens, jwt, clock } = await withKey();
    const iat = clock.now() / 1000;
    const claims = { iss: TOKEN_ISSUER, sub: ACCOUNT, kid: KEY_ID, iat, exp: iat + 600 };
    const foreign = await jwt.signAsync(claims, { secret: 'x'.repeat(40), algorithm: 'HS256' });
    const ours = await tokens.issue({ id: KEY_ID, accountId: ACCOUNT }, 600);
    const [header, payload] = ours.token.split('.');
    const otherIssuer = await jwt.signAsync(
      { ...claims, iss: 'someone' },
      { secret: await withKeySecret(tokens), algorithm: 'HS256' },
    );
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    for (const token of ['a.b.c', foreign, `${header}.${payload}.AAAA`, otherIssuer, unsigned]) {
      await expect(tokens.verify(token)).rejects.toEqual(rejection('INVALID_TOKEN'));
    }
  });

  it('the key: JWT_SECRET when set, else made once and kept in the settings store', async () => {
    const set = apiTokenFixture({ JWT_SECRET: 's'.repeat(32) });
    expect(await set.signingKey.get()).toBe('s'.repeat(32));
    expect(set.settings.values.size).toBe(0);
    const made = apiTokenFixture();
    const first = await made.signingKey.get();
    expect(first.length).toBeGreaterThanOrEqual(64);
    expect(made.settings.values.get(JWT_KEY_SETTING)).toBe(first);
    // A second replica (its own JwtSigningKey) reads the stored key instead of making its own.
    const replica = new JwtSigningKey(parseConfig({}), made.settings);
    expect(await replica.get()).toBe(first);
  });

  it('updates last_used_at at most once a minute per key', async () => {
    const { tokens, keys, clock } = await withKey();
    const touch = jest.spyOn(keys, 'touch');
    const { token } = await tokens.issue({ id: KEY_ID, accountId: ACCOUNT }, 3600);
    await tokens.verify(token);
    await tokens.verify(token);
    clock.advance(59_000);
    await tokens.verify(token);
    expect(touch).toHaveBeenCalledTimes(1);
    clock.advance(1_000);
    await tokens.verify(token);
    expect(touch).toHaveBeenCalledTimes(2);
  });
});

async function withKeySecret(tokens: ApiTokenService): Promise<string> {
  return (tokens as unknown as { signingKey: JwtSigningKey }).signingKey.get();
}
