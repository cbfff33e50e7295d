import { Global, Module } from '@nestjs/common';
import { ProducerQueuesModule } from '@app/messaging';
import { AdminAuthModule } from '../admin-auth/admin-auth.module';
import { MetricsController } from './metrics.controller';
import { QueueMetrics } from './queue-metrics';
import { RelayMetrics } from './relay-metrics';

/** Prometheus metrics; `RelayMetrics` is global infrastructure, like logs. `/metrics` is behind the admin token. */
@Global()
@Module({
  imports: [AdminAuthModule, ProducerQueuesModule],
  controllers: [MetricsController],
  providers: [RelayMetrics, QueueMetrics],
  exports: [RelayMetrics],
})
export class MetricsModule {}
