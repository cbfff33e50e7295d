import { createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { UnauthorizedError } from '@app/core';
import { AgentPrincipal } from './agent-principal';
import { AGENT_STRATEGY } from './agent-token.strategy';

@Injectable()
export class AgentAuthGuard extends AuthGuard(AGENT_STRATEGY) {
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
