import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ServiceUnavailableError } from '@app/core';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers. No dependency is checked, no auth.' })
  @ApiOkResponse({ schema: { example: { status: 'ok', timestamp: 1795400000000 } } })
  live(): { status: 'ok'; timestamp: number } {
    return { status: 'ok', timestamp: Date.now() };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Redis answer.' })
  @ApiOkResponse({
    schema: { example: { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } } },
  })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; details name it.' })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.db.pingCheck('database', { timeout: 1500 }),
        () => this.redis.check('redis'),
      ]);
    } catch (e) {
      const result = (e as { response?: HealthCheckResult }).response;
      const details = Object.entries(result?.details ?? {}).map(([dependency, state]) => ({
        field: dependency,
        message: String(state.status === 'up' ? 'up' : (state.message ?? 'down')),
        status: state.status,
      }));
      const down = details.filter((d) => d.status !== 'up').map((d) => d.field);
      throw new ServiceUnavailableError(
        'NOT_READY',
        down.length > 0 ? `Not ready: ${down.join(' and ')} unavailable.` : 'Not ready.',
        details,
      );
    }
  }
}
