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
import { ReplyService } from './reply.service';

@ApiTags('agent')
@ApiExtraModels(ReplyAcceptedDto, ReplyDeliveredDto)
@Controller('openclaw')
export class ReplyController {
  constructor(private readonly replies: ReplyService) {}

  @Post('reply')
  @HttpCode(200)
  @UseGuards(AgentAuthGuard, RateLimitGuard)
  @RateLimit({
    bucket: 'reply',
    key: 'account',
    limit: (config) => config.rateLimitRepliesPerMinute,
    windowMs: 60_000,
  })
  @ApiBearerAuth('agent')
  @ApiOperation({
    summary: "The agent's answer to a message",
    description:
      'Accepted at once and coalesced with further replies to the same message for REPLY_COALESCE_MS, then sent ' +
      'once to Kakao (callback URL, or the waiting webhook in inline mode). With REPLY_COALESCE_MS=0 the call ' +
      'waits for its own send and answers deliveredAt or 502.',
  })
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(ReplyAcceptedDto) }, { $ref: getSchemaPath(ReplyDeliveredDto) }],
    },
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR' })
  @ApiUnauthorizedResponse({ description: 'Invalid token, or SESSION_NOT_PAIRED' })
  @ApiNotFoundResponse({ description: "MESSAGE_NOT_FOUND (also for another account's message)" })
  @ApiConflictResponse({ description: 'ALREADY_REPLIED or CALLBACK_EXPIRED' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After and X-RateLimit-* headers' })
  @ApiBadGatewayResponse({ description: 'CALLBACK_FAILED (REPLY_COALESCE_MS=0 only)' })
  reply(
    @Agent() agent: AgentPrincipal,
    @Body() dto: ReplyDto,
  ): Promise<ReplyAcceptedDto | ReplyDeliveredDto> {
    return this.replies.reply(agent, dto);
  }
}
