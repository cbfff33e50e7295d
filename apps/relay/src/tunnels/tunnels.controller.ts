import {
  Body,
  CanActivate,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Param,
  PipeTransform,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { NotFoundError } from '@app/core';
import { AccountAuthGuard, AccountPrincipal, AgentPrincipal } from '@app/pairing';
import { RateLimit, RateLimitGuard } from '@app/platform';
import { TunnelHub, TunnelService } from '@app/tunnels';
import { requestOrigin } from './request-origin';
import { CreatedTunnelDto, CreateTunnelDto, TunnelDto, TunnelListDto, tunnelDto } from './tunnel.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A tunnel id no tunnel can have is answered like an unknown one (404), as null. */
export const tunnelIdParam: PipeTransform<string, string | null> = {
  transform: (value: string) => (UUID.test(value) ? value.toLowerCase() : null),
};

/** `GET /new` exists only with `TUNNEL_ANONYMOUS=true` (404 before anything is counted otherwise). */
@Injectable()
export class AnonymousTunnelsGuard implements CanActivate {
  constructor(@Inject(RELAY_CONFIG) private readonly config: RelayConfig) {}

  canActivate(): boolean {
    if (!this.config.tunnelAnonymous) throw new NotFoundError('NOT_FOUND', 'Cannot GET /new');
    return true;
  }
}

@ApiTags('tunnels')
@Controller()
export class TunnelsController {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly tunnels: TunnelService,
    private readonly hub: TunnelHub,
  ) {}

  @Post('v1/tunnels')
  @HttpCode(201)
  @UseGuards(AccountAuthGuard)
  @ApiBearerAuth('agent')
  @ApiSecurity({ apiKey: [], secretKey: [] })
  @ApiOperation({
    summary: 'Create a webhook tunnel; its token is in this answer only',
    description:
      'Point any webhook (GitHub, Stripe, a bot) at webhookUrl, and run `kakao-relay-tunnel --server-url … ' +
      '--token …` (or any WebSocket client of GET /ws/{id}) where the program is.',
  })
  @ApiCreatedResponse({ type: CreatedTunnelDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR' })
  @ApiUnauthorizedResponse({
    description: 'TOKEN_MISSING, INVALID_TOKEN, SESSION_NOT_PAIRED, INVALID_API_KEY…',
  })
  @ApiConflictResponse({ description: 'TOO_MANY_TUNNELS: the account holds TUNNEL_MAX_PER_ACCOUNT tunnels' })
  async create(
    @Req() req: Request,
    @AccountPrincipal() principal: AgentPrincipal & { accountId: string },
    @Body() body: CreateTunnelDto,
  ): Promise<CreatedTunnelDto> {
    const { tunnel, token } = await this.tunnels.create(
      principal.accountId,
      body.name ?? null,
      body.mode ?? 'live',
    );
    return {
      id: tunnel.id,
      webhookUrl: this.tunnels.webhookUrl(requestOrigin(req, this.config.trustProxy), tunnel.id),
      token,
      mode: tunnel.mode,
    };
  }

  @Get('v1/tunnels')
  @UseGuards(AccountAuthGuard)
  @ApiBearerAuth('agent')
  @ApiSecurity({ apiKey: [], secretKey: [] })
  @ApiOperation({ summary: "The account's tunnels, newest first (never their tokens)" })
  @ApiOkResponse({ type: TunnelListDto })
  @ApiUnauthorizedResponse({
    description: 'TOKEN_MISSING, INVALID_TOKEN, SESSION_NOT_PAIRED, INVALID_API_KEY…',
  })
  async list(
    @Req() req: Request,
    @AccountPrincipal() principal: AgentPrincipal & { accountId: string },
  ): Promise<{ items: TunnelDto[] }> {
    const origin = requestOrigin(req, this.config.trustProxy);
    const tunnels = await this.tunnels.list(principal.accountId);
    const items = await Promise.all(
      tunnels.map(async (t) =>
        tunnelDto(t, this.tunnels.webhookUrl(origin, t.id), await this.hub.isConnected(t.id)),
      ),
    );
    return { items };
  }

  @Delete('v1/tunnels/:id')
  @HttpCode(204)
  @UseGuards(AccountAuthGuard)
  @ApiBearerAuth('agent')
  @ApiSecurity({ apiKey: [], secretKey: [] })
  @ApiOperation({
    summary: 'Delete a tunnel',
    description: 'Its webhook answers 404 from now on, its socket is closed, its stored requests and log go.',
  })
  @ApiNoContentResponse()
  @ApiUnauthorizedResponse({
    description: 'TOKEN_MISSING, INVALID_TOKEN, SESSION_NOT_PAIRED, INVALID_API_KEY…',
  })
  @ApiNotFoundResponse({ description: 'TUNNEL_NOT_FOUND (also another account’s tunnel)' })
  remove(
    @AccountPrincipal() principal: AgentPrincipal & { accountId: string },
    @Param('id', tunnelIdParam) id: string | null,
  ): Promise<void> {
    return this.tunnels.delete(id, principal.accountId);
  }

  /**
   * The original webhook-over-websocket tool's way (websocket.md §2): an anonymous live tunnel. Off unless
   * `TUNNEL_ANONYMOUS=true` (then 404 like any unknown path, and not in the OpenAPI document's sense of a feature).
   */
  @Get('new')
  @UseGuards(AnonymousTunnelsGuard, RateLimitGuard)
  @RateLimit({
    bucket: 'tunnel-new',
    key: 'ip',
    limit: (c) => c.rateLimitSessionCreatesPer5Min,
    windowMs: 5 * 60_000,
  })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED: RATE_LIMIT_SESSION_CREATES_PER_5_MIN per client address per 5 minutes',
  })
  @ApiOperation({
    summary: 'An anonymous live tunnel (only when TUNNEL_ANONYMOUS=true)',
    description:
      'Compatibility with the webhook-over-websocket tool: answers the channel id (`id`), its webhook URL and ' +
      'its token. Connect with GET /ws/{id} and the token as a Bearer. 404 when TUNNEL_ANONYMOUS is off.',
  })
  @ApiOkResponse({ type: CreatedTunnelDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: TUNNEL_ANONYMOUS is off' })
  async anonymous(@Req() req: Request): Promise<CreatedTunnelDto> {
    const { tunnel, token } = await this.tunnels.create(null, null, 'live');
    return {
      id: tunnel.id,
      webhookUrl: this.tunnels.webhookUrl(requestOrigin(req, this.config.trustProxy), tunnel.id),
      token,
      mode: tunnel.mode,
    };
  }
}
