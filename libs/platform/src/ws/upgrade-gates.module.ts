import { Global, Module } from '@nestjs/common';
import { UpgradeGates } from './upgrade-gates';

/** The WebSocket gateways' upgrade gates (see `RelayWsAdapter`): infrastructure of the HTTP server, hence global. */
@Global()
@Module({ providers: [UpgradeGates], exports: [UpgradeGates] })
export class UpgradeGatesModule {}
