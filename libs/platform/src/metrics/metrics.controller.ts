import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { UnauthorizedError } from '@app/core';
import { AdminTokenService } from '../admin-auth/admin-token.service';
import { bearerToken } from '../http/request-credentials';
import { RelayMetrics } from './relay-metrics';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: RelayMetrics,
    private readonly tokens: AdminTokenService,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: 'Prometheus metrics; admin token required unless METRICS_PUBLIC=true' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
  async scrape(@Req() req: Request): Promise<string> {
    if (!this.config.metricsPublic) {
      if (!this.tokens.matches(bearerToken(req))) {
        throw new UnauthorizedError('INVALID_ADMIN_TOKEN', 'The admin token is required for /metrics.');
      }
    }
    req.res?.setHeader('Content-Type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
