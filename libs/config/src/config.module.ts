import { DynamicModule, Global, Module } from '@nestjs/common';
import { RelayConfig } from './relay-config';

/** DI token of the typed, validated configuration object. */
export const RELAY_CONFIG = Symbol('RELAY_CONFIG');

/**
 * Makes one already-validated RelayConfig available everywhere. The config is parsed before Nest starts
 * (see `parseConfig`), so a bad environment never gets as far as building modules.
 */
@Global()
@Module({})
export class RelayConfigModule {
  static forRoot(config: RelayConfig): DynamicModule {
    return {
      module: RelayConfigModule,
      providers: [{ provide: RELAY_CONFIG, useValue: config }],
      exports: [RELAY_CONFIG],
    };
  }
}
