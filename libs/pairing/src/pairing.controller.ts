import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { RateLimit, RateLimitGuard } from '@app/platform';
import { CreateSessionResponseDto, SessionStatusResponseDto } from './dto/pairing.dto';
import { SessionService } from './session.service';

@ApiTags('pairing')
@Controller('v1/sessions')
export class PairingController {
  constructor(private readonly sessions: SessionService) {}

  @Post('create')
  @HttpCode(200)
  @UseGuards(RateLimitGuard)
  @RateLimit({
    bucket: 'session-create',
    key: 'ip',
    limit: (c) => c.rateLimitSessionCreatesPer5Min,
    windowMs: 5 * 60_000,
  })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED: 10 per 5 minutes per client address (see TRUST_PROXY; IPv6 by /64)',
  })
  @ApiOperation({
    summary: 'Open a pairing session: a session token (the agent credential) and a pairing code.',
  })
  @ApiOkResponse({ type: CreateSessionResponseDto })
  create(): Promise<CreateSessionResponseDto> {
    return this.sessions.create();
  }

  @Get(':sessionToken/status')
  @UseGuards(RateLimitGuard)
  @RateLimit({
    bucket: 'session-status',
    key: 'ip',
    limit: (c) => c.rateLimitSessionStatusPerMinute,
    windowMs: 60_000,
  })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED: 30 per minute per client address (see TRUST_PROXY; IPv6 by /64)',
  })
  @ApiOperation({ summary: 'Where a pairing session stands. No auth: the token in the path is the secret.' })
  @ApiParam({ name: 'sessionToken', description: '64 lowercase hex characters' })
  @ApiOkResponse({ type: SessionStatusResponseDto })
  @ApiNotFoundResponse({ description: 'SESSION_NOT_FOUND' })
  status(@Param('sessionToken') token: string): Promise<SessionStatusResponseDto> {
    return this.sessions.statusByToken(token);
  }
}
