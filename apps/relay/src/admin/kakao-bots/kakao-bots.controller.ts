import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  PipeTransform,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { KakaoBotStore, KakaoBotSummary, NotFoundError } from '@app/core';
import { AdminAuthGuard } from '@app/platform';
import { toJson } from '../page-cursor';
import { KAKAO_BOT_ID_PATTERN, KakaoBotDto, KakaoBotListDto, PutKakaoBotDto } from './kakao-bot.dto';

const notFound = () =>
  new NotFoundError('KAKAO_BOT_NOT_FOUND', 'No Event API settings are stored for this Kakao bot.');

/** A path id that no bot can have is answered like an unknown one. */
const botIdParam: PipeTransform<string, string> = {
  transform(value: string) {
    if (!KAKAO_BOT_ID_PATTERN.test(value)) throw notFound();
    return value;
  },
};

const dto = (bot: KakaoBotSummary): KakaoBotDto => toJson(bot);

/**
 * Kakao bots' Event API settings (server-mode §6): what the relay needs to deliver a held answer through Kakao's
 * Event API. The REST API key is write-only and stored sealed with `RELAY_SECRETS_KEY`.
 */
@ApiTags('admin: kakao bots')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api/kakao/bots')
export class KakaoBotsController {
  constructor(private readonly bots: KakaoBotStore) {}

  @Get()
  @ApiOperation({ summary: 'Every Kakao bot with Event API settings, by bot id (no keys)' })
  @ApiOkResponse({ type: KakaoBotListDto })
  async list(): Promise<KakaoBotListDto> {
    return { items: (await this.bots.list()).map(dto) };
  }

  @Put(':botId')
  @ApiOperation({
    summary:
      "Store a Kakao bot's Event API settings (created or replaced; the REST API key is never returned)",
    description:
      'With them, a held answer of this bot is delivered through the Event API: the relay asks Kakao to run the ' +
      "event block named `eventName` for the user, and answers that block's skill request with the held answer. " +
      'Kakao charges per event message.',
  })
  @ApiOkResponse({ type: KakaoBotDto, description: 'Replaced' })
  @ApiCreatedResponse({ type: KakaoBotDto, description: 'Created' })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR naming the field' })
  @ApiNotFoundResponse({ description: 'KAKAO_BOT_NOT_FOUND: a bot id no Kakao bot can have' })
  @ApiServiceUnavailableResponse({
    description: 'SECRETS_KEY_MISSING: RELAY_SECRETS_KEY is not set, so the key cannot be stored',
  })
  async put(
    @Param('botId', botIdParam) botId: string,
    @Body() body: PutKakaoBotDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<KakaoBotDto> {
    const { bot, created } = await this.bots.put(botId, {
      restApiKey: body.restApiKey,
      eventName: body.eventName,
      name: body.name ?? null,
    });
    res.status(created ? 201 : 200);
    return dto(bot);
  }

  @Get(':botId')
  @ApiOperation({ summary: "One Kakao bot's Event API settings (no key)" })
  @ApiOkResponse({ type: KakaoBotDto })
  @ApiNotFoundResponse({ description: 'KAKAO_BOT_NOT_FOUND' })
  async get(@Param('botId', botIdParam) botId: string): Promise<KakaoBotDto> {
    const bot = await this.bots.get(botId);
    if (!bot) throw notFound();
    return dto(bot);
  }

  @Delete(':botId')
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Delete a bot's Event API settings: its held answers then go with the conversation's next answer",
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'KAKAO_BOT_NOT_FOUND' })
  async delete(@Param('botId', botIdParam) botId: string): Promise<void> {
    if (!(await this.bots.delete(botId))) throw notFound();
  }
}
