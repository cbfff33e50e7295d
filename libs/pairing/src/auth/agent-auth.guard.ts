import { createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { UnauthorizedError } from '@app/core';
import { AgentPrincipal } from './agent-principal';
import { AgentAuthService } from './agent-auth.service';
import { AGENT_STRATEGY, AgentAuthRequest, REQUEST_AGENT_AUTH } from './agent-token.strategy';

@Injectable()
export class AgentAuthGuard extends AuthGuard(AGENT_STRATEGY) {
  constructor(private readonly auth: AgentAuthService) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    context.switchToHttp().getRequest<AgentAuthRequest>()[REQUEST_AGENT_AUTH] = this.auth;
    return super.canActivate(context);
  }

  override handleRequest<T = AgentPrincipal>(err: unknown, user: T | false): T {
    if (err) throw err;
    if (!user) throw new UnauthorizedError('INVALID_TOKEN', 'The token is not valid.');
    return user;
  }
}

/** The authenticated agent of the request. */
export const Agent = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AgentPrincipal =>
    ctx.switchToHttp().getRequest<{ user: AgentPrincipal }>().user,
);
