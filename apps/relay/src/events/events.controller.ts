import { Controller, Get, Headers, Inject, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { clientIp, RateLimit, RateLimitGuard } from '@app/platform';
import type { Request, Response } from 'express';
import { Agent, AgentAuthGuard, AgentPrincipal } from '@app/pairing';
import { parseLastEventId, STREAM_CONNECT_LIMIT, StreamHub } from '@app/streams';
import { SseTransport } from './sse-transport';

@ApiTags('agent')
@Controller('v1')
export class EventsController {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly hub: StreamHub,
  ) {}

  @Get('events')
  // Counted per presented token before it is checked, so guessing tokens is throttled too.
  @UseGuards(RateLimitGuard, AgentAuthGuard)
  @RateLimit(STREAM_CONNECT_LIMIT)
  @ApiTooManyRequestsResponse({
    description:
      'RATE_LIMITED: 30 connects per minute per token; TOO_MANY_STREAMS: the client address holds MAX_STREAMS_PER_IP',
  })
  @ApiBearerAuth('agent')
  @ApiOperation({
    summary: 'The agent stream (Server-Sent Events)',
    description:
      'Events: connected (first), message (id = per-account sequence; data {id, conversationKey, channel ' +
      '("kakao" | "works"), kakaoPayload (Kakao messages only), normalized {userId, text, channelId, attachments? ' +
      '(non-text content)}, createdAt, payload (the ' +
      'original request body, whole)}), pairing_complete, pairing_expired, error. ' +
      'Heartbeat: `event: ping` with `data: {}` and no id, every SSE_HEARTBEAT_SECONDS. Undelivered messages are ' +
      'replayed on connect, a page at a time as the client reads; with Last-Event-ID, written-but-unanswered ' +
      'messages after it are sent again. Limits: at most MAX_STREAMS_PER_TOKEN (3) streams per token — one more ' +
      'closes the oldest with `error` {"code":"STREAM_REPLACED"}; at most MAX_STREAMS_PER_IP (50) per client ' +
      'address (429 TOO_MANY_STREAMS); a stream holding more than STREAM_MAX_BUFFER_BYTES unsent is closed (resume ' +
      'with Last-Event-ID). A revoked token or session ends its streams within SSE_HEARTBEAT_SECONDS. A stream ' +
      'opened with a token of POST /v1/auth/token ends at its exp (pairing_expired {"reason":"expired"}) and when ' +
      'its API key is revoked (pairing_expired {"reason":"disconnected"}).',
  })
  @ApiProduces('text/event-stream')
  @ApiQuery({
    name: 'token',
    required: false,
    description: 'Alternative to the Authorization header (SSE only)',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this message sequence number',
  })
  @ApiOkResponse({
    description: 'An event stream',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({
    description:
      'TOKEN_MISSING, INVALID_TOKEN, SESSION_EXPIRED or SESSION_DISCONNECTED; for a token of POST /v1/auth/token ' +
      'also TOKEN_EXPIRED or TOKEN_REVOKED',
  })
  async events(
    @Agent() agent: AgentPrincipal,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<void> {
    const address = clientIp(req, this.config.trustProxy);
    await this.hub.open(agent, new SseTransport(req, res), address, parseLastEventId(lastEventId));
  }
}
