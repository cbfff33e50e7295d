import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { AgentAuthService } from './agent-auth.service';
import { AgentPrincipal } from './agent-principal';
import { BearerTokenStrategy } from './token-strategy';

export const AGENT_STRATEGY = 'agent-token';

/** Passport strategy for the agent endpoints; `?token=` is honoured on the SSE stream only. */
@Injectable()
export class AgentTokenStrategy extends PassportStrategy(BearerTokenStrategy, AGENT_STRATEGY) {
  constructor(private readonly auth: AgentAuthService) {
    super({ allowQuery: (req: Request) => req.path === '/v1/events' });
  }

  validate(token: string | null): Promise<AgentPrincipal> {
    return this.auth.authenticate(token);
  }
}
