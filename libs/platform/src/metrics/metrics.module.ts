import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { QueueMetrics } from './queue-metrics';
import { RelayMetrics } from './relay-metrics';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [RelayMetrics, QueueMetrics],
  exports: [RelayMetrics],
})
export class MetricsModule {}
