import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ValidationError } from '@app/core';
import { RateLimit, RateLimitGuard } from '@app/platform';
import { AccountAuthGuard, AccountPrincipal, AgentPrincipal, API_KEY_PAIR_SECURITY } from '@app/pairing';
import { MessageQueuedDto, MessageStateDto, SendMessageDto } from './dto/messages.dto';
import { MessagesService } from './messages.service';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationError('The id in the path must be a UUID.'),
});

/**
 * `POST /v1/messages` (the agent speaks first) and `GET /v1/messages/{id}` (what became of an answer), server-mode
 * §4–§5. Authentication: an account credential (`AccountAuthGuard`, server-mode §1): a paired session token, the
 * account relay token, a token of `POST /v1/auth/token`, or the API key pair itself.
 */
@ApiTags('agent')
@ApiBearerAuth('agent')
@ApiSecurity(API_KEY_PAIR_SECURITY)
@ApiUnauthorizedResponse({ description: 'Invalid token, or SESSION_NOT_PAIRED' })
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post()
  @HttpCode(202)
  @UseGuards(AccountAuthGuard, RateLimitGuard)
  @RateLimit({
    bucket: 'messages',
    key: 'account',
    limit: (config) => config.rateLimitMessagesPerMinute,
    windowMs: 60_000,
  })
  @ApiOperation({
    summary:
      'Send a message first (proactive), to a conversation paired to this agent or of a bot bound to it',
    description:
      "Naver Works: handed to the Works send API at once. Kakao: delivered through the bot's Event API when the " +
      'operator stored its settings (PUT /admin/api/kakao/bots/{botId}), otherwise held and sent with the ' +
      "conversation's next answer (GET /v1/messages/{id} then says `held`).",
  })
  @ApiAcceptedResponse({ type: MessageQueuedDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_ERROR (neither or both of text and response, `{"works": …}` for Kakao, …)',
  })
  @ApiNotFoundResponse({
    description:
      'CONVERSATION_NOT_FOUND: neither paired to this agent nor of a bot bound to it (server-mode §3)',
  })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED (RATE_LIMIT_MESSAGES_PER_MINUTE), with Retry-After',
  })
  send(@AccountPrincipal() agent: AgentPrincipal, @Body() dto: SendMessageDto): Promise<MessageQueuedDto> {
    return this.messages.send(agent, dto);
  }

  @Get(':id')
  @UseGuards(AccountAuthGuard)
  @ApiOperation({
    summary: 'What became of an answer: a replyId of POST /openclaw/reply or an id of POST /v1/messages',
  })
  @ApiOkResponse({ type: MessageStateDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: the id is not a UUID' })
  @ApiNotFoundResponse({ description: "MESSAGE_NOT_FOUND (also another account's)" })
  state(@AccountPrincipal() agent: AgentPrincipal, @Param('id', uuid) id: string): Promise<MessageStateDto> {
    return this.messages.state(agent, id);
  }
}
