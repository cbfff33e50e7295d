import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { AdminAuthService } from '../admin-auth/admin-auth.guard';
import { RelayMetrics } from './relay-metrics';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: RelayMetrics,
    private readonly adminAuth: AdminAuthService,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiBearerAuth('admin')
  @ApiOperation({
    summary: 'Prometheus metrics; admin token required unless METRICS_PUBLIC=true',
    description:
      'Wrong admin tokens count in the same per-address failed-login limit as the admin API: past it they ' +
      'are answered 429. The correct token is always accepted.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED: too many wrong admin tokens from this address (Retry-After)',
  })
  async scrape(@Req() req: Request): Promise<string> {
    if (!this.config.metricsPublic) await this.adminAuth.authenticate(req);
    req.res?.setHeader('Content-Type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
