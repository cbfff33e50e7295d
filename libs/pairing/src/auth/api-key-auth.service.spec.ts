import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { JwtService } from '@nestjs/jwt';
import { parseConfig } from '@app/config';
import { FixedClock, generateApiKeyPair, generateToken, hashToken, RateLimitedError } from '@app/core';
import type { RateLimiter, RateLimitResult } from '@app/messaging';
import { InMemoryApiKeyStore, InMemorySettingsStore } from '@app/testing/fakes/api-key-store';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { SessionExpiry } from '../session-expiry';
import { AccountAuthGuard } from './account-auth.guard';
import { AgentAuthService } from './agent-auth.service';
import {
  API_KEY_FAILURE_BUCKETS,
  API_KEY_FAILURES_PER_ADDRESS,
  API_KEY_FAILURES_PER_KEY,
  ApiKeyAuthService,
  INVALID_API_KEY,
} from './api-key-auth.service';
import { ApiKeyUsage } from './api-key-usage';
import { ApiTokenService } from './api-token.service';
import { JwtSigningKey } from './jwt-signing-key';

const ACCOUNT = '0190a0b0-0000-7000-8000-000000000001';
const ADDRESS = '198.51.100.7';

/** A limiter counting in memory; `down` makes it throw like a Redis outage. */
function fakeLimiter() {
  const counts = new Map<string, number>();
  const state = { down: false };
  const limiter = {
    hit: async (bucket: string, key: string, limit: number): Promise<RateLimitResult> => {
      if (state.down) throw new Error('redis down');
      const n = (counts.get(`${bucket}|${key}`) ?? 0) + 1;
      counts.set(`${bucket}|${key}`, n);
      return { allowed: n <= limit, limit, remaining: Math.max(0, limit - n), resetMs: 42_500 };
    },
    count: async (bucket: string, key: string) => {
      if (state.down) throw new Error('redis down');
      return counts.get(`${bucket}|${key}`) ?? 0;
    },
  };
  return { limiter: limiter as unknown as RateLimiter, counts, state };
}

async function setup() {
  const clock = new FixedClock(Date.UTC(2026, 10, 30, 6));
  const keys = new InMemoryApiKeyStore(clock);
  keys.accounts.add(ACCOUNT);
  const pair = generateApiKeyPair();
  const keyId = '0190a0b0-0000-7000-8000-0000000000aa';
  await keys.create(
    { id: keyId, accountId: ACCOUNT, apiKey: pair.apiKey, secretHash: hashToken(pair.secretKey) },
    20,
  );
  const fake = fakeLimiter();
  const usage = new ApiKeyUsage(keys, clock);
  const service = new ApiKeyAuthService(keys, fake.limiter, usage);
  return { clock, keys, pair, keyId, service, ...fake, usage };
}

const headers = (apiKey?: string, secretKey?: string) => ({
  ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }),
  ...(secretKey === undefined ? {} : { 'x-secret-key': secretKey }),
});

const refusal = expect.objectContaining({ statusCode: 401, ...INVALID_API_KEY });

describe('ApiKeyAuthService', () => {
  it('accepts the right pair and answers the key', async () => {
    const { service, pair, keyId } = await setup();
    await expect(service.authenticate(headers(pair.apiKey, pair.secretKey), ADDRESS)).resolves.toEqual({
      id: keyId,
      accountId: ACCOUNT,
      secretHash: hashToken(pair.secretKey),
    });
  });

  it('one 401 body whatever is wrong or missing, and the secret is hashed for an unknown key too', async () => {
    const { service, pair, keys } = await setup();
    const other = generateApiKeyPair();
    const cases = [
      headers(pair.apiKey, other.secretKey),
      headers(other.apiKey, pair.secretKey),
      headers(other.apiKey, other.secretKey),
      headers(pair.apiKey),
      headers(undefined, pair.secretKey),
      headers('garbage', 'garbage'),
      headers(),
    ];
    for (const h of cases) await expect(service.authenticate(h, ADDRESS)).rejects.toEqual(refusal);
    // Both well-formed keys were looked up, the existing one and the unknown one alike.
    expect(keys.lookups).toBe(4);
  });

  it('a revoked key is refused like a wrong one', async () => {
    const { service, pair, keys, keyId } = await setup();
    await keys.delete(ACCOUNT, keyId);
    await expect(service.authenticate(headers(pair.apiKey, pair.secretKey), ADDRESS)).rejects.toEqual(
      refusal,
    );
  });

  it(`after ${API_KEY_FAILURES_PER_KEY} wrong secrets the key is refused with 429 + Retry-After, the right one too`, async () => {
    const { service, pair } = await setup();
    const wrong = generateApiKeyPair().secretKey;
    for (let i = 0; i < API_KEY_FAILURES_PER_KEY; i++) {
      // From different addresses: the limit is the key's.
      await expect(service.authenticate(headers(pair.apiKey, wrong), `203.0.113.${i}`)).rejects.toEqual(
        refusal,
      );
    }
    for (const secret of [wrong, pair.secretKey]) {
      const refused = await service
        .authenticate(headers(pair.apiKey, secret), ADDRESS)
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RateLimitedError);
      expect((refused as RateLimitedError).headers).toEqual({ 'Retry-After': '60' });
    }
  });

  it(`past ${API_KEY_FAILURES_PER_ADDRESS} wrong pairs from one address they are answered 429`, async () => {
    const { service, counts } = await setup();
    for (let i = 0; i < API_KEY_FAILURES_PER_ADDRESS; i++) {
      const other = generateApiKeyPair();
      await expect(service.authenticate(headers(other.apiKey, other.secretKey), ADDRESS)).rejects.toEqual(
        refusal,
      );
    }
    const other = generateApiKeyPair();
    const refused = await service
      .authenticate(headers(other.apiKey, other.secretKey), ADDRESS)
      .catch((e) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).headers).toEqual({ 'Retry-After': '43' });
    expect(counts.get(`${API_KEY_FAILURE_BUCKETS.address}|${ADDRESS}`)).toBe(
      API_KEY_FAILURES_PER_ADDRESS + 1,
    );
  });

  it('fails open while Redis is away: wrong pairs 401, the right one accepted', async () => {
    const { service, pair, state } = await setup();
    state.down = true;
    await expect(service.authenticate(headers(pair.apiKey, 'sk_wrong'), ADDRESS)).rejects.toEqual(refusal);
    await expect(service.authenticate(headers(pair.apiKey, pair.secretKey), ADDRESS)).resolves.toMatchObject({
      accountId: ACCOUNT,
    });
  });
});

describe('AccountAuthGuard', () => {
  async function guardSetup() {
    const base = await setup();
    const ports = fakePairingPorts(base.clock);
    const expiry = new SessionExpiry(ports.sessions, ports.events, base.clock);
    const apiTokens = new ApiTokenService(
      new JwtService({}),
      new JwtSigningKey(parseConfig({}), new InMemorySettingsStore()),
      base.keys,
      base.usage,
      base.clock,
    );
    const agentAuth = new AgentAuthService(ports.sessions, ports.accounts, expiry, apiTokens);
    const guard = new AccountAuthGuard(agentAuth, base.service, parseConfig({}));
    return { ...base, ...ports, apiTokens, guard };
  }

  const context = (req: Partial<Request>) => {
    const full = { headers: {}, query: {}, path: '/v1/test', socket: { remoteAddress: ADDRESS }, ...req };
    return {
      req: full as Request & { user?: unknown },
      ctx: { switchToHttp: () => ({ getRequest: () => full }) } as unknown as ExecutionContext,
    };
  };

  it('the key pair: an api_key principal of the account on req.user', async () => {
    const { guard, pair, keyId } = await guardSetup();
    const { req, ctx } = context({ headers: headers(pair.apiKey, pair.secretKey) });
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(req.user).toMatchObject({
      kind: 'api_key',
      accountId: ACCOUNT,
      apiKeyId: keyId,
      status: 'paired',
    });
  });

  it('a JWT, a relay token and a paired session token as Bearer; a pending session is 401 SESSION_NOT_PAIRED', async () => {
    const { guard, apiTokens, keyId, tables } = await guardSetup();
    const { token: jwt } = await apiTokens.issue({ id: keyId, accountId: ACCOUNT }, 600);
    const relay = generateToken();
    tables.addAccount({ relayTokenHash: hashToken(relay) });
    const paired = generateToken();
    tables.addSession({ tokenHash: hashToken(paired), status: 'paired', accountId: 'a' });
    for (const [token, kind] of [
      [jwt, 'api_token'],
      [relay, 'account'],
      [paired, 'session'],
    ]) {
      const { req, ctx } = context({ headers: { authorization: `Bearer ${token}` } });
      await expect(guard.canActivate(ctx)).resolves.toBe(true);
      expect(req.user).toMatchObject({ kind, status: 'paired' });
    }
    const pending = generateToken();
    tables.addSession({ tokenHash: hashToken(pending) });
    await expect(
      guard.canActivate(context({ headers: { authorization: `Bearer ${pending}` } }).ctx),
    ).rejects.toMatchObject({ statusCode: 401, code: 'SESSION_NOT_PAIRED' });
  });

  it('nothing: 401 TOKEN_MISSING; a wrong pair: INVALID_API_KEY (the pair decides when present)', async () => {
    const { guard, apiTokens, keyId } = await guardSetup();
    await expect(guard.canActivate(context({}).ctx)).rejects.toMatchObject({ code: 'TOKEN_MISSING' });
    const { token } = await apiTokens.issue({ id: keyId, accountId: ACCOUNT }, 600);
    await expect(
      guard.canActivate(
        context({ headers: { authorization: `Bearer ${token}`, 'x-api-key': 'ak_live_x' } }).ctx,
      ),
    ).rejects.toEqual(refusal);
  });
});
