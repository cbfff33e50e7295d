import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ValidationError } from '@app/core';
import { RateLimit, RateLimitGuard } from '@app/platform';
import { Agent, AgentAuthGuard, AgentPrincipal } from '@app/pairing';
import { MessageQueuedDto, MessageStateDto, SendMessageDto } from './dto/messages.dto';
import { MessagesService } from './messages.service';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationError('The id in the path must be a UUID.'),
});

/**
 * `POST /v1/messages` (the agent speaks first) and `GET /v1/messages/{id}` (what became of an answer), server-mode
 * §4–§5. Authentication: the agent's credential of `/openclaw/reply` (`AgentAuthGuard`); the account-auth guard of
 * server-mode §1 replaces it when it lands.
 */
@ApiTags('agent')
@ApiBearerAuth('agent')
@ApiUnauthorizedResponse({ description: 'Invalid token, or SESSION_NOT_PAIRED' })
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post()
  @HttpCode(202)
  @UseGuards(AgentAuthGuard, RateLimitGuard)
  @RateLimit({
    bucket: 'messages',
    key: 'account',
    limit: (config) => config.rateLimitMessagesPerMinute,
    windowMs: 60_000,
  })
  @ApiOperation({
    summary: 'Send a message first (proactive), to a conversation paired to this agent',
    description:
      "Naver Works: handed to the Works send API at once. Kakao: delivered through the bot's Event API when the " +
      'operator stored its settings (PUT /admin/api/kakao/bots/{botId}), otherwise held and sent with the ' +
      "conversation's next answer (GET /v1/messages/{id} then says `held`).",
  })
  @ApiAcceptedResponse({ type: MessageQueuedDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_ERROR (neither or both of text and response, `{"works": …}` for Kakao, …)',
  })
  @ApiNotFoundResponse({ description: 'CONVERSATION_NOT_FOUND: not a conversation paired to this agent' })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED (RATE_LIMIT_MESSAGES_PER_MINUTE), with Retry-After',
  })
  send(@Agent() agent: AgentPrincipal, @Body() dto: SendMessageDto): Promise<MessageQueuedDto> {
    return this.messages.send(agent, dto);
  }

  @Get(':id')
  @UseGuards(AgentAuthGuard)
  @ApiOperation({
    summary: 'What became of an answer: a replyId of POST /openclaw/reply or an id of POST /v1/messages',
  })
  @ApiOkResponse({ type: MessageStateDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: the id is not a UUID' })
  @ApiNotFoundResponse({ description: "MESSAGE_NOT_FOUND (also another account's)" })
  state(@Agent() agent: AgentPrincipal, @Param('id', uuid) id: string): Promise<MessageStateDto> {
    return this.messages.state(agent, id);
  }
}
