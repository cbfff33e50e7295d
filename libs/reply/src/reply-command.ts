import { Injectable, ValidationPipe } from '@nestjs/common';
import type { ErrorBody } from '@app/core';
import { AgentAuthService } from '@app/pairing';
import { createValidationPipe, ErrorBodyFilter, RateLimitGuard } from '@app/platform';
import { ReplyDto } from './dto/reply.dto';
import { REPLY_RATE_LIMIT } from './reply-rate-limit';
import { ReplyService } from './reply.service';

/** What `POST /openclaw/reply` would have answered: its status and its body (the uniform error body on errors). */
export interface ReplyOutcome {
  status: number;
  body: unknown;
}

/**
 * A reply that does not arrive as an HTTP request (the agent socket's `reply` frame, websocket.md §1), handled
 * exactly like `POST /openclaw/reply`, in the same order: the token is authenticated again (a revoked or expired
 * credential is the same 401, a session paired since the socket opened may now reply), the per-account limit is
 * counted (`REPLY_RATE_LIMIT`, the same counter), the body is validated by the same `ReplyDto` and pipe options,
 * and `ReplyService` decides. Errors become the status and uniform body `ErrorBodyFilter` would write; this never
 * throws.
 */
@Injectable()
export class ReplyCommand {
  private readonly pipe: ValidationPipe = createValidationPipe();
  private readonly errors = new ErrorBodyFilter();

  constructor(
    private readonly auth: AgentAuthService,
    private readonly limits: RateLimitGuard,
    private readonly replies: ReplyService,
  ) {}

  async run(token: string, body: unknown): Promise<ReplyOutcome> {
    try {
      const agent = await this.auth.authenticate(token);
      if (agent.accountId) await this.limits.enforce(REPLY_RATE_LIMIT, agent.accountId);
      const dto = (await this.pipe.transform(body, { type: 'body', metatype: ReplyDto })) as ReplyDto;
      return { status: 200, body: await this.replies.reply(agent, dto) };
    } catch (e) {
      const { body: error }: { body: ErrorBody } = this.errors.toBody(e);
      return { status: error.statusCode, body: error };
    }
  }
}
