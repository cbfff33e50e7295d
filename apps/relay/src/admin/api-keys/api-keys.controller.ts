import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  PipeTransform,
  Post,
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
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ValidationError } from '@app/core';
import { AdminAuthGuard } from '@app/platform';
import { ApiKeyDto, ApiKeyListDto, CreatedApiKeyDto } from './api-key.dto';
import { ApiKeysAdmin, MAX_API_KEYS_PER_ACCOUNT } from './api-keys.admin';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationError('The id in the path must be a UUID.'),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A key id that no key can have is answered like an unknown one (404), as null. */
const keyIdParam: PipeTransform<string, string | null> = {
  transform: (value: string) => (UUID.test(value) ? value : null),
};

@ApiTags('admin: api keys')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@ApiBadRequestResponse({ description: 'VALIDATION_ERROR: the account id is not a UUID' })
@UseGuards(AdminAuthGuard)
@Controller('admin/api/accounts/:accountId/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysAdmin) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create an API key pair for the account; the secret key is in this answer only',
    description:
      'Exchange the pair for short-lived tokens at POST /v1/auth/token, or send it as the x-api-key and ' +
      `x-secret-key headers to the server endpoints. At most ${MAX_API_KEYS_PER_ACCOUNT} keys per account.`,
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  @ApiConflictResponse({
    description: `TOO_MANY_API_KEYS: the account holds ${MAX_API_KEYS_PER_ACCOUNT} keys`,
  })
  create(@Param('accountId', uuid) accountId: string): Promise<CreatedApiKeyDto> {
    return this.keys.create(accountId);
  }

  @Get()
  @ApiOperation({ summary: "The account's API keys, newest first (never their secrets)" })
  @ApiOkResponse({ type: ApiKeyListDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  async list(@Param('accountId', uuid) accountId: string): Promise<{ items: ApiKeyDto[] }> {
    return { items: await this.keys.list(accountId) };
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke (delete) an API key',
    description:
      'The pair is refused from the next request on, its tokens answer 401 TOKEN_REVOKED, and streams opened ' +
      'with them are closed (pairing_expired {"reason":"disconnected"}) at once, or within ' +
      'SSE_HEARTBEAT_SECONDS on every replica if the notice is lost.',
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND or API_KEY_NOT_FOUND' })
  revoke(
    @Param('accountId', uuid) accountId: string,
    @Param('keyId', keyIdParam) keyId: string | null,
  ): Promise<void> {
    return this.keys.revoke(accountId, keyId);
  }
}
