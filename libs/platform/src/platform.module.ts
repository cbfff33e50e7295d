import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { RelayConfig, RelayConfigModule } from '@app/config';
import { MessagingModule } from '@app/messaging';
import { DatabaseModule } from '@app/persistence';
import { ClockModule } from './clock.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { loggerOptions } from './logging/logger.options';
import { UpgradeGatesModule } from './ws/upgrade-gates.module';

/** What every deployable stands on: config, logs, PostgreSQL, Redis/BullMQ and the health endpoints. */
@Module({})
export class PlatformModule {
  static forRoot(config: RelayConfig): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        RelayConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config)),
        ClockModule,
        DatabaseModule,
        MessagingModule,
        HealthModule,
        MetricsModule,
        UpgradeGatesModule,
      ],
    };
  }
}
