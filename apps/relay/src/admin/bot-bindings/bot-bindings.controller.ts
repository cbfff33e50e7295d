import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  PipeTransform,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  BOT_BINDING_CHANNELS,
  BotBinding,
  BotBindingStore,
  ChannelName,
  MAX_BOT_BINDING_ID_LENGTH,
  NotFoundError,
  ValidationError,
} from '@app/core';
import { BotBindings } from '@app/pairing';
import { AdminAuthGuard } from '@app/platform';
import { PageQueryDto } from '../dto/admin.dto';
import { toJson } from '../page-cursor';
import { pagedList } from '../paged-list';
import { BotBindingDto, BotBindingPageDto, PutBotBindingDto } from './bot-binding.dto';

const channelParam: PipeTransform<string, ChannelName> = {
  transform(value: string) {
    if (!(BOT_BINDING_CHANNELS as readonly string[]).includes(value)) {
      throw new ValidationError(`channel must be one of ${BOT_BINDING_CHANNELS.join(', ')}`, [
        { field: 'channel', message: `channel must be one of ${BOT_BINDING_CHANNELS.join(', ')}` },
      ]);
    }
    return value as ChannelName;
  },
};

const botIdParam: PipeTransform<string, string> = {
  transform(value: string) {
    if (value.length === 0 || value.length > MAX_BOT_BINDING_ID_LENGTH) {
      throw new ValidationError(`botId must be 1 to ${MAX_BOT_BINDING_ID_LENGTH} characters`, [
        { field: 'botId', message: `botId must be 1 to ${MAX_BOT_BINDING_ID_LENGTH} characters` },
      ]);
    }
    return value;
  },
};

const noBinding = () => new NotFoundError('BOT_BINDING_NOT_FOUND', 'This bot has no binding.');

function dto(binding: BotBinding): BotBindingDto {
  return toJson(binding);
}

const PATH = ':channel/:botId/binding';
const CHANNEL_DOC = { name: 'channel', enum: BOT_BINDING_CHANNELS };
const BOT_DOC = { name: 'botId', description: 'Kakao bot.id, or the Works bot id (1 to 256 characters)' };
const BAD_PATH = 'VALIDATION_ERROR: channel is not kakao or works, or botId is too long';

/**
 * Bot bindings (server-mode.md §3): a whole Kakao or Works bot bound to one account. Changes go through
 * `BotBindings`, which applies them to this replica's memory at once and tells the others.
 */
@ApiTags('admin: bot bindings')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api/bots')
export class BotBindingsController {
  constructor(
    private readonly bindings: BotBindings,
    private readonly store: BotBindingStore,
  ) {}

  @Get('bindings')
  @ApiOperation({ summary: 'Every bot binding, newest first (allow-lists counted, not listed)' })
  @ApiOkResponse({ type: BotBindingPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (limit, cursor)' })
  list(@Query() q: PageQueryDto): Promise<BotBindingPageDto> {
    return pagedList(q, (window) => this.store.list(window));
  }

  @Put(PATH)
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Bind a whole bot to one account (creates or replaces the binding); every replica applies it within ' +
      'moments (at most 5 s without Redis)',
  })
  @ApiParam(CHANNEL_DOC)
  @ApiParam(BOT_DOC)
  @ApiOkResponse({ type: BotBindingDto, description: 'The binding as stored (created or replaced)' })
  @ApiBadRequestResponse({
    description:
      `${BAD_PATH}; or the body: accountId not a UUID, an unknown policy, allowlist missing or empty with ` +
      'policy allowlist, given with another policy, over 10,000 ids or an id over 256 characters',
  })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  async put(
    @Param('channel', channelParam) channel: ChannelName,
    @Param('botId', botIdParam) botId: string,
    @Body() body: PutBotBindingDto,
  ): Promise<BotBindingDto> {
    const result = await this.bindings.set({
      channel,
      botId,
      accountId: body.accountId,
      policy: body.policy,
      allowlist: body.policy === 'allowlist' ? (body.allowlist ?? []) : [],
    });
    if (!result) throw new NotFoundError('ACCOUNT_NOT_FOUND', 'No account has this id.');
    return dto(result.binding);
  }

  @Get(PATH)
  @ApiOperation({ summary: "A bot's binding, with its allow-list" })
  @ApiParam(CHANNEL_DOC)
  @ApiParam(BOT_DOC)
  @ApiOkResponse({ type: BotBindingDto })
  @ApiBadRequestResponse({ description: BAD_PATH })
  @ApiNotFoundResponse({ description: 'BOT_BINDING_NOT_FOUND: the bot is not bound (it uses pairing)' })
  async get(
    @Param('channel', channelParam) channel: ChannelName,
    @Param('botId', botIdParam) botId: string,
  ): Promise<BotBindingDto> {
    const binding = await this.store.findForBot(channel, botId);
    if (!binding) throw noBinding();
    return dto(binding);
  }

  @Delete(PATH)
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Remove a bot's binding: its new users pair with a code again; conversations it paired stay paired to " +
      'the account until unpaired',
  })
  @ApiParam(CHANNEL_DOC)
  @ApiParam(BOT_DOC)
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: BAD_PATH })
  @ApiNotFoundResponse({ description: 'BOT_BINDING_NOT_FOUND' })
  async delete(
    @Param('channel', channelParam) channel: ChannelName,
    @Param('botId', botIdParam) botId: string,
  ): Promise<void> {
    if (!(await this.bindings.remove(channel, botId))) throw noBinding();
  }
}
