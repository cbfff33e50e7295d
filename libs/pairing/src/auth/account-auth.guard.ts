import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { hashToken, UnauthorizedError } from '@app/core';
import { clientIp } from '@app/platform';
import { AgentAuthService } from './agent-auth.service';
import { AgentPrincipal } from './agent-principal';
import { AgentTokenAuthenticator } from './agent-token.strategy';
import { ApiKeyAuthService } from './api-key-auth.service';

const REQUEST_ACCOUNT = Symbol('account-principal');
type AccountRequest = Request & { user?: AgentPrincipal; [REQUEST_ACCOUNT]?: AgentPrincipal };

/**
 * The account credential of the server endpoints (server-mode.md §1–§5): `Authorization: Bearer` with a paired
 * session token, an account relay token or a token of `POST /v1/auth/token` — or the API key pair itself
 * (`x-api-key` + `x-secret-key`, checked and limited by `ApiKeyAuthService`; when either header is present the
 * pair decides, a Bearer header is then not looked at). A pending session is 401 `SESSION_NOT_PAIRED`. The
 * principal (always with an `accountId`) is `@AccountPrincipal()` and `req.user`.
 */
@Injectable()
export class AccountAuthGuard implements CanActivate {
  private readonly bearer: AgentTokenAuthenticator;

  constructor(
    agentAuth: AgentAuthService,
    private readonly apiKeys: ApiKeyAuthService,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {
    this.bearer = new AgentTokenAuthenticator(agentAuth);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AccountRequest>();
    const principal = await this.authenticate(req);
    req.user = principal;
    req[REQUEST_ACCOUNT] = principal;
    return true;
  }

  async authenticate(req: Request): Promise<AgentPrincipal> {
    if (ApiKeyAuthService.presented(req.headers)) {
      const key = await this.apiKeys.authenticate(req.headers, clientIp(req, this.config.trustProxy));
      return {
        kind: 'api_key',
        sessionId: null,
        accountId: key.accountId,
        status: 'paired',
        expiresAt: null,
        tokenHash: hashToken(key.id),
        apiKeyId: key.id,
      };
    }
    const principal = await this.bearer.authenticate(req);
    if (principal.status !== 'paired' || !principal.accountId) {
      throw new UnauthorizedError(
        'SESSION_NOT_PAIRED',
        'The session is not paired yet; this endpoint needs a paired session or an account credential.',
      );
    }
    return principal;
  }
}

/** The account principal that `AccountAuthGuard` authenticated (its `accountId` is never null). */
export const AccountPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AgentPrincipal & { accountId: string } => {
    const principal = ctx.switchToHttp().getRequest<AccountRequest>()[REQUEST_ACCOUNT];
    if (!principal?.accountId) throw new Error('@AccountPrincipal() needs AccountAuthGuard on the route');
    return principal as AgentPrincipal & { accountId: string };
  },
);
