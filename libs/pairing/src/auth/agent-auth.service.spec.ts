import { JwtService } from '@nestjs/jwt';
import { parseConfig } from '@app/config';
import { FixedClock, generateToken, hashToken } from '@app/core';
import { InMemoryApiKeyStore, InMemorySettingsStore } from '@app/testing/fakes/api-key-store';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { SessionExpiry } from '../session-expiry';
import { AgentAuthService } from './agent-auth.service';
import { ApiKeyUsage } from './api-key-usage';
import { ApiTokenService } from './api-token.service';
import { JwtSigningKey } from './jwt-signing-key';

describe('AgentAuthService', () => {
  const setup = () => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const ports = fakePairingPorts(clock);
    const expiry = new SessionExpiry(ports.sessions, ports.events, clock);
    const apiKeys = new InMemoryApiKeyStore(clock);
    const apiTokens = new ApiTokenService(
      new JwtService({}),
      new JwtSigningKey(parseConfig({}), new InMemorySettingsStore()),
      apiKeys,
      new ApiKeyUsage(apiKeys, clock),
      clock,
    );
    return {
      clock,
      ...ports,
      apiKeys,
      apiTokens,
      auth: new AgentAuthService(ports.sessions, ports.accounts, expiry, apiTokens),
    };
  };
  const rejection = (code: string) => expect.objectContaining({ statusCode: 401, code });

  it('no token: 401 TOKEN_MISSING; a malformed or unknown one: 401 INVALID_TOKEN', async () => {
    const { auth } = setup();
    await expect(auth.authenticate(null)).rejects.toEqual(rejection('TOKEN_MISSING'));
    await expect(auth.authenticate('')).rejects.toEqual(rejection('TOKEN_MISSING'));
    await expect(auth.authenticate('not-a-token')).rejects.toEqual(rejection('INVALID_TOKEN'));
    await expect(auth.authenticate('A'.repeat(64))).rejects.toEqual(rejection('INVALID_TOKEN'));
    await expect(auth.authenticate(generateToken())).rejects.toEqual(rejection('INVALID_TOKEN'));
  });

  it('a pending session token: a principal without account, with its expiry instant', async () => {
    const { clock, tables, auth } = setup();
    const token = generateToken();
    const session = tables.addSession({ tokenHash: hashToken(token), accountId: 'pre-bound' });
    expect(await auth.authenticate(token)).toEqual({
      kind: 'session',
      sessionId: session.id,
      accountId: null,
      status: 'pending_pairing',
      expiresAt: new Date(clock.now() + 300_000),
      tokenHash: hashToken(token),
    });
  });

  it('a paired session token: the account, no expiry', async () => {
    const { tables, auth } = setup();
    const token = generateToken();
    const session = tables.addSession({
      tokenHash: hashToken(token),
      status: 'paired',
      accountId: 'account-1',
    });
    expect(await auth.authenticate(token)).toEqual({
      kind: 'session',
      sessionId: session.id,
      accountId: 'account-1',
      status: 'paired',
      expiresAt: null,
      tokenHash: hashToken(token),
    });
  });

  it('a pending session token stops working at the expiry instant: 401 SESSION_EXPIRED, streams told', async () => {
    const { clock, tables, events, auth } = setup();
    const token = generateToken();
    const session = tables.addSession({ tokenHash: hashToken(token), expiresAt: clock.after(1000) });
    clock.advance(999);
    await expect(auth.authenticate(token)).resolves.toMatchObject({ status: 'pending_pairing' });
    clock.advance(1);
    await expect(auth.authenticate(token)).rejects.toEqual(rejection('SESSION_EXPIRED'));
    await expect(auth.authenticate(token)).rejects.toEqual(rejection('SESSION_EXPIRED'));
    expect(tables.session(session.id).status).toBe('expired');
    expect(events.sessionEvents()).toEqual([[session.id, 'pairing_expired', { reason: 'expired' }]]);
  });

  it('a paired session does not expire with its code', async () => {
    const { clock, tables, auth } = setup();
    const token = generateToken();
    tables.addSession({
      tokenHash: hashToken(token),
      status: 'paired',
      accountId: 'a',
      expiresAt: clock.date(),
    });
    clock.advance(86_400_000);
    await expect(auth.authenticate(token)).resolves.toMatchObject({ status: 'paired', accountId: 'a' });
  });

  it('a disconnected session token: 401 SESSION_DISCONNECTED', async () => {
    const { tables, auth } = setup();
    const token = generateToken();
    tables.addSession({ tokenHash: hashToken(token), status: 'disconnected', accountId: 'a' });
    await expect(auth.authenticate(token)).rejects.toEqual(rejection('SESSION_DISCONNECTED'));
  });

  it('an account relay token: the account, as paired', async () => {
    const { tables, auth } = setup();
    const token = generateToken();
    const account = tables.addAccount({ relayTokenHash: hashToken(token) });
    expect(await auth.authenticate(token)).toEqual({
      kind: 'account',
      sessionId: null,
      accountId: account.id,
      status: 'paired',
      expiresAt: null,
      tokenHash: hashToken(token),
    });
  });

  it('a token of POST /v1/auth/token: an account principal (api_token) until exp, refused once revoked', async () => {
    const { clock, tables, apiKeys, apiTokens, auth } = setup();
    const account = tables.addAccount({ id: '0190a0b0-0000-7000-8000-000000000001' });
    apiKeys.accounts.add(account.id);
    const keyId = '0190a0b0-0000-7000-8000-0000000000aa';
    await apiKeys.create({ id: keyId, accountId: account.id, apiKey: 'ak', secretHash: 'h' }, 20);
    const { token, expiresAt } = await apiTokens.issue({ id: keyId, accountId: account.id }, 120);
    expect(await auth.authenticate(token)).toEqual({
      kind: 'api_token',
      sessionId: null,
      accountId: account.id,
      status: 'paired',
      expiresAt,
      tokenHash: hashToken(token),
      apiKeyId: keyId,
    });
    clock.advance(120_000);
    await expect(auth.authenticate(token)).rejects.toEqual(rejection('TOKEN_EXPIRED'));
    const fresh = await apiTokens.issue({ id: keyId, accountId: account.id }, 120);
    await apiKeys.delete(account.id, keyId);
    await expect(auth.authenticate(fresh.token)).rejects.toEqual(rejection('TOKEN_REVOKED'));
    await expect(auth.authenticate('x.y.z')).rejects.toEqual(rejection('INVALID_TOKEN'));
  });
});
