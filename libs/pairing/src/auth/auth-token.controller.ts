import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { clientIp, RateLimit, RateLimitGuard } from '@app/platform';
import { CreateTokenDto, TokenDto } from '../dto/auth-token.dto';
import { ApiKeyAuthService } from './api-key-auth.service';
import { ApiTokenService, TOKEN_TTL } from './api-token.service';

/** The security requirement of the key pair: both headers together. */
export const API_KEY_PAIR_SECURITY = { apiKey: [], secretKey: [] };

@ApiTags('agent')
@Controller('v1/auth')
export class AuthTokenController {
  constructor(
    private readonly keys: ApiKeyAuthService,
    private readonly tokens: ApiTokenService,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  @Post('token')
  @HttpCode(200)
  // Every request counts against its client address before the keys are checked.
  @UseGuards(RateLimitGuard)
  @RateLimit({
    bucket: 'auth-token',
    key: 'ip',
    limit: (c) => c.rateLimitAuthTokenPerMinute,
    windowMs: 60_000,
  })
  @ApiSecurity(API_KEY_PAIR_SECURITY)
  @ApiHeader({ name: 'x-api-key', required: true, description: 'The API key, `ak_live_…`' })
  @ApiHeader({ name: 'x-secret-key', required: true, description: 'Its secret key, `sk_…`' })
  @ApiOperation({
    summary: 'A short-lived token for an API key pair',
    description:
      'Signs a JWT (HS256; claims iss "kakao-relay", sub = account id, kid = API key id, iat, exp) accepted as ' +
      '"Authorization: Bearer" wherever an account relay token is: GET /v1/events (also ?token=), ' +
      '/openclaw/reply and the server endpoints. Expired: 401 TOKEN_EXPIRED; once its API key is revoked: 401 ' +
      'TOKEN_REVOKED on the next request, and streams opened with it end within SSE_HEARTBEAT_SECONDS (at once ' +
      'when the revocation notice arrives). A stream opened with a token ends at its exp with ' +
      '`pairing_expired` {"reason":"expired"}. Limits: RATE_LIMIT_AUTH_TOKEN_PER_MINUTE (30) requests per client ' +
      'address; 10 wrong pairs per API key per minute (then that key is refused, its right secret too, until ' +
      'the minute ends); 30 wrong pairs per client address per minute.',
  })
  @ApiOkResponse({ type: TokenDto })
  @ApiBadRequestResponse({
    description: `VALIDATION_ERROR: ttlSeconds outside ${TOKEN_TTL.min}..${TOKEN_TTL.max}`,
  })
  @ApiUnauthorizedResponse({
    description: 'INVALID_API_KEY, the same body whichever header is missing or wrong (or the key revoked)',
  })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async token(@Req() req: Request, @Body() body: CreateTokenDto): Promise<TokenDto> {
    const key = await this.keys.authenticate(req.headers, clientIp(req, this.config.trustProxy));
    const issued = await this.tokens.issue(key, body.ttlSeconds ?? TOKEN_TTL.default);
    return {
      token: issued.token,
      tokenType: 'Bearer',
      expiresAt: issued.expiresAt.toISOString(),
      accountId: key.accountId,
    };
  }
}
