import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { BearerAuthenticator, BearerStrategy, INVALID_TOKEN } from '@app/platform';
import { AgentAuthService } from './agent-auth.service';
import { AgentPrincipal } from './agent-principal';

export const AGENT_STRATEGY = 'agent-token';

/** The SSE stream, the one place `?token=` is accepted (EventSource cannot set headers). */
const STREAM_PATH = '/v1/events';

/**
 * See BearerStrategy: passport's registry is process-wide, so the guard puts its own application's auth service
 * on the request and the strategy uses that one.
 */
export const REQUEST_AGENT_AUTH = Symbol('agent-auth');
export type AgentAuthRequest = Request & { [REQUEST_AGENT_AUTH]?: AgentAuthService };

/** Agent tokens on the bearer base: session tokens and account relay tokens, resolved by `AgentAuthService`. */
export class AgentTokenAuthenticator extends BearerAuthenticator<AgentPrincipal> {
  constructor(private readonly auth: AgentAuthService) {
    super();
  }

  protected override acceptsQueryToken(req: Request): boolean {
    return req.path === STREAM_PATH;
  }

  protected principalFor(token: string): Promise<AgentPrincipal> {
    return this.auth.authenticate(token);
  }
}

/** Passport strategy for the agent endpoints (`/v1/events`, `/openclaw/reply`). */
@Injectable()
export class AgentTokenStrategy extends PassportStrategy(BearerStrategy, AGENT_STRATEGY) {
  private readonly authenticators = new WeakMap<AgentAuthService, AgentTokenAuthenticator>();

  constructor(private readonly auth: AgentAuthService) {
    super({ invalid: INVALID_TOKEN });
  }

  validate(req: AgentAuthRequest): Promise<AgentPrincipal> {
    return this.authenticatorFor(req[REQUEST_AGENT_AUTH] ?? this.auth).authenticate(req);
  }

  private authenticatorFor(auth: AgentAuthService): AgentTokenAuthenticator {
    let authenticator = this.authenticators.get(auth);
    if (!authenticator) {
      authenticator = new AgentTokenAuthenticator(auth);
      this.authenticators.set(auth, authenticator);
    }
    return authenticator;
  }
}
