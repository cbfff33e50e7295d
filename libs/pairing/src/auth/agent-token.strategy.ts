import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { AgentAuthService } from './agent-auth.service';
import { AgentPrincipal } from './agent-principal';
import { BearerTokenStrategy } from './token-strategy';

export const AGENT_STRATEGY = 'agent-token';

/**
 * Passport keeps strategies in one process-wide registry, so with several relay applications in one process
 * (the multi-instance tests) the last one registered would answer for all. The guard therefore puts its own
 * application's auth service on the request, and the strategy uses that one.
 */
export const REQUEST_AGENT_AUTH = Symbol('agent-auth');
export type AgentAuthRequest = Request & { [REQUEST_AGENT_AUTH]?: AgentAuthService };

/** Passport strategy for the agent endpoints; `?token=` is honoured on the SSE stream only. */
@Injectable()
export class AgentTokenStrategy extends PassportStrategy(BearerTokenStrategy, AGENT_STRATEGY) {
  constructor(private readonly auth: AgentAuthService) {
    super({ allowQuery: (req: Request) => req.path === '/v1/events' });
  }

  validate(token: string | null, req: AgentAuthRequest): Promise<AgentPrincipal> {
    return (req[REQUEST_AGENT_AUTH] ?? this.auth).authenticate(token);
  }
}
