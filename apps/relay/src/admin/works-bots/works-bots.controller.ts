import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  PipeTransform,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
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
import { NotFoundError, WorksBotRegistry } from '@app/core';
import { AdminAuthGuard } from '@app/platform';
import { PageQueryDto } from '../dto/admin.dto';
import { pagedList } from '../paged-list';
import {
  CreateWorksBotDto,
  UpdateWorksBotDto,
  WORKS_BOT_ID_PATTERN,
  WorksBotDto,
  WorksBotPageDto,
} from './works-bot.dto';
import { WorksBotsAdmin } from './works-bots.admin';

/** A path id that no bot can have is answered like an unknown one. */
const botIdParam: PipeTransform<string, string> = {
  transform(value: string) {
    if (!WORKS_BOT_ID_PATTERN.test(value)) {
      throw new NotFoundError('WORKS_BOT_NOT_FOUND', 'No Works bot is registered with this id.');
    }
    return value;
  },
};

const BAD_BODY = 'VALIDATION_ERROR naming the field: a missing field, a bad PEM, a key that is not RSA';
const NO_KEY = 'SECRETS_KEY_MISSING: RELAY_SECRETS_KEY is not set, so no secret can be stored';

@ApiTags('admin: works bots')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api/works/bots')
export class WorksBotsController {
  constructor(
    private readonly bots: WorksBotsAdmin,
    private readonly registry: WorksBotRegistry,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Register a Naver Works bot (secrets and private key are stored encrypted and never returned)',
  })
  @ApiCreatedResponse({ type: WorksBotDto })
  @ApiBadRequestResponse({ description: BAD_BODY })
  @ApiConflictResponse({
    description: 'WORKS_BOT_EXISTS, or WORKS_BOT_FROM_ENVIRONMENT (the WORKS_BOT_ID bot)',
  })
  @ApiServiceUnavailableResponse({ description: NO_KEY })
  create(@Body() body: CreateWorksBotDto): Promise<WorksBotDto> {
    return this.bots.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'Registered Works bots, newest first (not the bot of the WORKS_* variables)' })
  @ApiOkResponse({ type: WorksBotPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (limit, cursor)' })
  list(@Query() q: PageQueryDto): Promise<WorksBotPageDto> {
    return pagedList(q, (window) => this.registry.list(window));
  }

  @Get(':botId')
  @ApiOperation({ summary: 'One registered Works bot' })
  @ApiOkResponse({ type: WorksBotDto })
  @ApiNotFoundResponse({ description: 'WORKS_BOT_NOT_FOUND' })
  get(@Param('botId', botIdParam) botId: string): Promise<WorksBotDto> {
    return this.bots.get(botId);
  }

  @Patch(':botId')
  @ApiOperation({ summary: 'Change any field of a bot but its id; a secret given replaces the stored one' })
  @ApiOkResponse({ type: WorksBotDto })
  @ApiBadRequestResponse({ description: BAD_BODY })
  @ApiNotFoundResponse({ description: 'WORKS_BOT_NOT_FOUND' })
  @ApiServiceUnavailableResponse({ description: NO_KEY })
  update(@Param('botId', botIdParam) botId: string, @Body() body: UpdateWorksBotDto): Promise<WorksBotDto> {
    return this.bots.update(botId, body);
  }

  @Post(':botId/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a bot: its callbacks are refused (403) and nothing is sent for it' })
  @ApiOkResponse({ type: WorksBotDto })
  @ApiNotFoundResponse({ description: 'WORKS_BOT_NOT_FOUND' })
  disable(@Param('botId', botIdParam) botId: string): Promise<WorksBotDto> {
    return this.bots.update(botId, { enabled: false });
  }

  @Post(':botId/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a disabled bot again' })
  @ApiOkResponse({ type: WorksBotDto })
  @ApiNotFoundResponse({ description: 'WORKS_BOT_NOT_FOUND' })
  enable(@Param('botId', botIdParam) botId: string): Promise<WorksBotDto> {
    return this.bots.update(botId, { enabled: true });
  }

  @Delete(':botId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a bot; its messages are kept until retention removes them' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'WORKS_BOT_NOT_FOUND' })
  delete(@Param('botId', botIdParam) botId: string): Promise<void> {
    return this.bots.delete(botId);
  }
}
