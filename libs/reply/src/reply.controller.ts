import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { RateLimit, RateLimitGuard } from '@app/platform';
import { Agent, AgentAuthGuard } from '@app/pairing';
import { AgentPrincipal } from '@app/pairing';
import { ReplyAcceptedDto, ReplyDeliveredDto, ReplyDto } from './dto/reply.dto';
import { REPLY_RATE_LIMIT } from './reply-rate-limit';
import { ReplyService } from './reply.service';

@ApiTags('agent')
@ApiExtraModels(ReplyAcceptedDto, ReplyDeliveredDto)
@Controller('openclaw')
export class ReplyController {
  constructor(private readonly replies: ReplyService) {}

  @Post('reply')
  @HttpCode(200)
  @UseGuards(AgentAuthGuard, RateLimitGuard)
  @RateLimit(REPLY_RATE_LIMIT)
  @ApiBearerAuth('agent')
  @ApiOperation({
    summary: "The agent's answer to a message",
    description:
      'Accepted at once and coalesced with further replies to the same message for REPLY_COALESCE_MS, then sent ' +
      'once to Kakao (callback URL, or the waiting webhook in inline mode). With REPLY_COALESCE_MS=0 the call ' +
      'waits for its own send and answers deliveredAt or 502.\n\n' +
      'Late replies (server-mode §4): with LATE_REPLIES=hold (the default), a reply after the send happened or ' +
      'after the deadline is 200 `{"success":true,"status":"held","replyId"}`: kept (merged per message) and ' +
      "delivered through the bot's Kakao Event API or with the conversation's next answer; " +
      'GET /v1/messages/{replyId} tells what became of it. With LATE_REPLIES=reject it is 409 as before.\n\n' +
      'Naver Works message (channel "works"): no callback window and no coalescing. Each reply is converted ' +
      '(a SkillResponse: one Works message per output) or sent as is (`{"works": <Works content object>}`), ' +
      'stored and queued in order as the next message(s) of the conversation, and answered at once with ' +
      '`accepted` (replyId: the first stored Works message); a second or late reply is accepted too (no 409). ' +
      'A send that fails later is reported on the streams as an `error` event WORKS_SEND_FAILED. ' +
      '`{"works": …}` to a Kakao message is 400 VALIDATION_ERROR.',
  })
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(ReplyAcceptedDto) }, { $ref: getSchemaPath(ReplyDeliveredDto) }],
    },
  })
  @ApiBadRequestResponse({
    description:
      'VALIDATION_ERROR (also `{"works": …}` for a Kakao message, a `works` value without a string `type`, or ' +
      'a SkillResponse with nothing a Works message can show)',
  })
  @ApiUnauthorizedResponse({
    description:
      'TOKEN_MISSING, INVALID_TOKEN, SESSION_EXPIRED, SESSION_DISCONNECTED, SESSION_NOT_PAIRED; for a token of ' +
      'POST /v1/auth/token also TOKEN_EXPIRED or TOKEN_REVOKED',
  })
  @ApiNotFoundResponse({ description: "MESSAGE_NOT_FOUND (also for another account's message)" })
  @ApiConflictResponse({
    description: 'ALREADY_REPLIED or CALLBACK_EXPIRED (Kakao messages, LATE_REPLIES=reject only)',
  })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After and X-RateLimit-* headers' })
  @ApiBadGatewayResponse({ description: 'CALLBACK_FAILED (Kakao messages, REPLY_COALESCE_MS=0 only)' })
  reply(
    @Agent() agent: AgentPrincipal,
    @Body() dto: ReplyDto,
  ): Promise<ReplyAcceptedDto | ReplyDeliveredDto> {
    return this.replies.reply(agent, dto);
  }
}
