import { Injectable } from '@nestjs/common';
import { AccountStore, hashToken, isWellFormedToken, SessionStore, UnauthorizedError } from '@app/core';
import { SessionExpiry } from '../session-expiry';
import { AgentPrincipal } from './agent-principal';
import { ApiTokenService, looksLikeJwt } from './api-token.service';

/**
 * Resolves an agent token (session token, account relay token, or a token of `POST /v1/auth/token`) to a
 * principal, or a 401.
 */
@Injectable()
export class AgentAuthService {
  constructor(
    private readonly sessions: SessionStore,
    private readonly accounts: AccountStore,
    private readonly expiry: SessionExpiry,
    private readonly apiTokens: ApiTokenService,
  ) {}

  async authenticate(token: string | null): Promise<AgentPrincipal> {
    if (!token)
      throw new UnauthorizedError('TOKEN_MISSING', 'Send the token as "Authorization: Bearer <token>".');
    if (looksLikeJwt(token)) return this.apiTokenPrincipal(token);
    if (!isWellFormedToken(token)) throw new UnauthorizedError('INVALID_TOKEN', 'The token is not valid.');
    const hash = hashToken(token);
    const found = await this.sessions.findByTokenHash(hash);
    if (found) {
      const session = await this.expiry.apply(found);
      if (session.status === 'expired') {
        throw new UnauthorizedError('SESSION_EXPIRED', 'The pairing session expired; create a new one.');
      }
      if (session.status === 'disconnected') {
        throw new UnauthorizedError('SESSION_DISCONNECTED', 'The session was disconnected; pair again.');
      }
      return {
        kind: 'session',
        sessionId: session.id,
        accountId: session.status === 'paired' ? session.accountId : null,
        status: session.status,
        expiresAt: session.status === 'pending_pairing' ? session.expiresAt : null,
        tokenHash: hash,
      };
    }
    const account = await this.accounts.findByRelayTokenHash(hash);
    if (account)
      return {
        kind: 'account',
        sessionId: null,
        accountId: account.id,
        status: 'paired',
        expiresAt: null,
        tokenHash: hash,
      };
    throw new UnauthorizedError('INVALID_TOKEN', 'The token is not valid.');
  }

  /** A JWT of `POST /v1/auth/token`: an account principal until `exp`, while its API key exists. */
  private async apiTokenPrincipal(token: string): Promise<AgentPrincipal> {
    const verified = await this.apiTokens.verify(token);
    return {
      kind: 'api_token',
      sessionId: null,
      accountId: verified.accountId,
      status: 'paired',
      expiresAt: verified.expiresAt,
      tokenHash: hashToken(token),
      apiKeyId: verified.apiKeyId,
    };
  }
}
