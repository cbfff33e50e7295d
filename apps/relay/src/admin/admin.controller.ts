import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
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
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ValidationError } from '@app/core';
import { AdminReadRepository, PageWindow } from '@app/persistence';
import { AdminAuthGuard } from '@app/platform';
import { AdminService } from './admin.service';
import {
  AccountDetailDto,
  AccountPageDto,
  AdminCreatedSessionDto,
  ConversationListQueryDto,
  ConversationPageDto,
  CreateAdminSessionDto,
  InboundListQueryDto,
  InboundPageDto,
  OutboundListQueryDto,
  OutboundPageDto,
  OverviewDto,
  PageQueryDto,
  RelayTokenDto,
  SessionListQueryDto,
  SessionPageDto,
  SessionStateDto,
} from './dto/admin.dto';
import { JsonPage, KeysetRow, pagedList } from './paged-list';
const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationError('The id in the path must be a UUID.'),
});

@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes ' +
    '(Retry-After); the correct token is always accepted',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api')
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly read: AdminReadRepository,
  ) {}

  @Get('overview')
  @ApiOperation({ summary: 'Counters across the cluster, and the last cleanup run' })
  @ApiOkResponse({ type: OverviewDto })
  overview(): Promise<OverviewDto> {
    return this.admin.overview();
  }

  @Get('accounts')
  @ApiOperation({ summary: 'Accounts, newest first' })
  @ApiOkResponse({ type: AccountPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (limit, cursor)' })
  accounts(@Query() q: PageQueryDto): Promise<AccountPageDto> {
    return pagedList(q, (window) => this.read.accounts(window));
  }

  @Get('accounts/:accountId')
  @ApiOperation({ summary: 'One account with its message counters' })
  @ApiOkResponse({ type: AccountDetailDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  account(@Param('accountId', uuid) accountId: string): Promise<AccountDetailDto> {
    return this.admin.accountDetail(accountId);
  }

  @Get('accounts/:accountId/conversations')
  @ApiOperation({ summary: "An account's conversations (Kakao users)" })
  @ApiOkResponse({ type: ConversationPageDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  accountConversations(
    @Param('accountId', uuid) accountId: string,
    @Query() q: ConversationListQueryDto,
  ): Promise<ConversationPageDto> {
    return this.ofAccount(accountId, q, (window) =>
      this.read.conversations({ accountId, state: q.state }, window),
    );
  }

  @Get('accounts/:accountId/sessions')
  @ApiOperation({ summary: "An account's sessions" })
  @ApiOkResponse({ type: SessionPageDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  accountSessions(
    @Param('accountId', uuid) accountId: string,
    @Query() q: SessionListQueryDto,
  ): Promise<SessionPageDto> {
    return this.ofAccount(accountId, q, (window) =>
      this.read.sessions({ accountId, state: q.status }, window),
    );
  }

  @Get('accounts/:accountId/messages')
  @ApiOperation({ summary: "An account's inbound messages, filter by status" })
  @ApiOkResponse({ type: InboundPageDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  accountMessages(
    @Param('accountId', uuid) accountId: string,
    @Query() q: InboundListQueryDto,
  ): Promise<InboundPageDto> {
    return this.ofAccount(accountId, q, (window) =>
      this.read.inbound({ accountId, state: q.status }, window),
    );
  }

  @Get('accounts/:accountId/outbound')
  @ApiOperation({ summary: "An account's replies to Kakao, filter by status" })
  @ApiOkResponse({ type: OutboundPageDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  accountOutbound(
    @Param('accountId', uuid) accountId: string,
    @Query() q: OutboundListQueryDto,
  ): Promise<OutboundPageDto> {
    return this.ofAccount(accountId, q, (window) =>
      this.read.outbound({ accountId, state: q.status }, window),
    );
  }

  @Post('accounts/:accountId/relay-token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mint a new account relay token (shown once; the previous one is revoked)' })
  @ApiOkResponse({ type: RelayTokenDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  mintRelayToken(@Param('accountId', uuid) accountId: string): Promise<RelayTokenDto> {
    return this.admin.mintRelayToken(accountId);
  }

  @Delete('accounts/:accountId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an account with its sessions, messages and replies; its streams are closed',
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  deleteAccount(@Param('accountId', uuid) accountId: string): Promise<void> {
    return this.admin.deleteAccount(accountId);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'Sessions, newest first (live pairing codes included)' })
  @ApiOkResponse({ type: SessionPageDto })
  sessions(@Query() q: SessionListQueryDto): Promise<SessionPageDto> {
    return pagedList(q, (window) => this.read.sessions({ accountId: q.accountId, state: q.status }, window));
  }

  @Post('sessions')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a pairing session, optionally for an existing account' })
  @ApiCreatedResponse({ type: AdminCreatedSessionDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  createSession(@Body() body: CreateAdminSessionDto): Promise<AdminCreatedSessionDto> {
    return this.admin.createSession(body?.accountId ?? null);
  }

  @Post('sessions/:sessionId/disconnect')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Disconnect a session: its streams get pairing_expired {"reason":"disconnected"}',
  })
  @ApiOkResponse({ type: SessionStateDto })
  @ApiNotFoundResponse({ description: 'SESSION_NOT_FOUND' })
  disconnectSession(@Param('sessionId', uuid) sessionId: string): Promise<SessionStateDto> {
    return this.admin.disconnectSession(sessionId);
  }

  @Delete('sessions/:sessionId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a session (disconnecting it first)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'SESSION_NOT_FOUND' })
  deleteSession(@Param('sessionId', uuid) sessionId: string): Promise<void> {
    return this.admin.deleteSession(sessionId);
  }

  @Get('conversations')
  @ApiOperation({ summary: 'Conversations (Kakao users), newest first' })
  @ApiOkResponse({ type: ConversationPageDto })
  conversations(@Query() q: ConversationListQueryDto): Promise<ConversationPageDto> {
    return pagedList(q, (window) =>
      this.read.conversations({ accountId: q.accountId, state: q.state }, window),
    );
  }

  @Delete('conversations/:conversationId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a conversation (the Kakao user is unpaired)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'CONVERSATION_NOT_FOUND' })
  deleteConversation(@Param('conversationId', uuid) conversationId: string): Promise<void> {
    return this.admin.deleteConversation(conversationId);
  }

  @Get('messages')
  @ApiOperation({ summary: 'Recent inbound messages across accounts, filter by status or account' })
  @ApiOkResponse({ type: InboundPageDto })
  messages(@Query() q: InboundListQueryDto): Promise<InboundPageDto> {
    return pagedList(q, (window) => this.read.inbound({ accountId: q.accountId, state: q.status }, window));
  }

  @Get('outbound')
  @ApiOperation({ summary: 'Replies to Kakao across accounts, filter by status or account' })
  @ApiOkResponse({ type: OutboundPageDto })
  outbound(@Query() q: OutboundListQueryDto): Promise<OutboundPageDto> {
    return pagedList(q, (window) => this.read.outbound({ accountId: q.accountId, state: q.status }, window));
  }

  @Get('failures')
  @ApiOperation({ summary: 'Failed replies (Kakao refused, timed out, URL refused), newest first' })
  @ApiOkResponse({ type: OutboundPageDto })
  failures(@Query() q: PageQueryDto): Promise<OutboundPageDto> {
    return pagedList(q, (window) => this.read.outbound({ state: 'failed' }, window));
  }

  /** A list of one account's rows: 404 when there is no such account, else the page. */
  private async ofAccount<T extends KeysetRow>(
    accountId: string,
    query: PageQueryDto,
    read: (window: PageWindow) => Promise<T[]>,
  ): Promise<JsonPage<T>> {
    await this.admin.requireAccount(accountId);
    return pagedList(query, read);
  }
}
